import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { protectNumbers, typedFromPlain } from '../../src/values/plain-json.js';

function parse(text: string) {
  const p = protectNumbers(text);
  const value = JSON.parse(p?.text ?? text) as unknown;
  return typedFromPlain(value, p?.marker);
}

describe('exact numbers in plain JSON parameters (as Neo4j reads them)', () => {
  it('keeps Floats written with a fraction or exponent, and every digit of an integer', () => {
    expect(parse('[1.0, 1, -0.0, 1e2, 9007199254740993, -9223372036854775808, 0.1]')).toEqual({
      $type: 'List',
      _value: [
        { $type: 'Float', _value: '1.0' },
        { $type: 'Integer', _value: '1' },
        { $type: 'Float', _value: '-0.0' },
        { $type: 'Float', _value: '100.0' },
        { $type: 'Integer', _value: '9007199254740993' },
        { $type: 'Integer', _value: '-9223372036854775808' },
        { $type: 'Float', _value: '0.1' },
      ],
    });
  });

  it('leaves bodies without such numbers untouched (the common case)', () => {
    expect(protectNumbers('{"statement": "RETURN 1.0", "parameters": {"a": 1, "b": "2.5"}}')).toBeUndefined();
  });

  it('never turns a string into a number: the marker is random per body', () => {
    const a = protectNumbers('[1.5]')!;
    const b = protectNumbers('[1.5]')!;
    expect(a.marker).not.toBe(b.marker);
    expect(parse(`["${a.marker}7", 2.5]`)).toEqual({
      $type: 'List',
      _value: [
        { $type: 'String', _value: `${a.marker}7` },
        { $type: 'Float', _value: '2.5' },
      ],
    });
  });

  it('refuses integers beyond 64 bits', () => {
    expect(() => parse('92233720368547758070')).toThrow(/64-bit/);
  });

  it('parses like JSON.parse everywhere else (strings with escapes, nesting)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const text = JSON.stringify(v);
        const p = protectNumbers(text);
        const back = JSON.parse(p?.text ?? text) as unknown;
        // every value that is not a protected number comes back the same
        const strip = (x: unknown): unknown =>
          typeof x === 'number'
            ? 'n'
            : typeof x === 'string' && p && x.startsWith(p.marker)
              ? 'n'
              : Array.isArray(x)
                ? x.map(strip)
                : x && typeof x === 'object'
                  ? Object.fromEntries(Object.entries(x).map(([k, y]) => [k, strip(y)]))
                  : x;
        expect(strip(back)).toEqual(strip(v));
      }),
    );
  });
});
