import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors/index.js';
import { assertJsonDepth, jsonDepth } from '../../src/http/json-depth.js';

/** the reference: nesting depth of a parsed value */
function parsedDepth(v: unknown): number {
  if (Array.isArray(v)) return 1 + Math.max(0, ...v.map(parsedDepth));
  if (v !== null && typeof v === 'object') return 1 + Math.max(0, ...Object.values(v).map(parsedDepth));
  return 0;
}

describe('jsonDepth', () => {
  it('counts arrays and objects', () => {
    expect(jsonDepth('1')).toBe(0);
    expect(jsonDepth('"x"')).toBe(0);
    expect(jsonDepth('{}')).toBe(1);
    expect(jsonDepth('[[],{}]')).toBe(2);
    expect(jsonDepth('{"a": {"b": [1, [2]]}, "c": []}')).toBe(4);
  });

  it('skips strings, escaped quotes and backslashes included', () => {
    expect(jsonDepth('{"s": "[[[[{{{{"}')).toBe(1);
    expect(jsonDepth('{"s": "\\"[[[["}')).toBe(1);
    expect(jsonDepth('{"s": "\\\\", "t": [[1]]}')).toBe(3);
    expect(jsonDepth('["\\\\\\"[[", ["]"]]')).toBe(2);
    expect(jsonDepth('{"[[[": 1}')).toBe(1);
  });

  it('stops counting once past the limit', () => {
    const deep = '['.repeat(300_000) + ']'.repeat(300_000);
    expect(jsonDepth(deep)).toBe(300_000);
    expect(jsonDepth(deep, 64)).toBe(65);
  });

  it('leaves malformed text to JSON.parse (no throw, no hang)', () => {
    expect(jsonDepth('{"a": "unterminated')).toBe(1);
    expect(jsonDepth(']]]]')).toBe(0);
    expect(jsonDepth('"\\')).toBe(0);
  });

  it('equals the depth of the parsed value, for any JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 12 }), (v) => {
        const text = JSON.stringify(v);
        expect(jsonDepth(text)).toBe(parsedDepth(JSON.parse(text)));
      }),
      { numRuns: 500 },
    );
  });

  it('is linear: a 1 MiB body of strings and a 1 MiB body of nesting both scan fast', () => {
    const strings = JSON.stringify({ statement: 'RETURN $x', parameters: { x: Array.from({ length: 5000 }, (_, i) => `"\\${'['.repeat(i % 200)}`) } });
    const slashes = JSON.stringify({ s: '\\'.repeat(1 << 20) });
    const nesting = '['.repeat(1 << 19) + ']'.repeat(1 << 19);
    const t0 = performance.now();
    expect(jsonDepth(strings)).toBe(3);
    expect(jsonDepth(slashes)).toBe(1);
    expect(jsonDepth(nesting)).toBe(1 << 19);
    expect(performance.now() - t0).toBeLessThan(500);
  });
});

describe('assertJsonDepth', () => {
  it('accepts the limit and refuses one more, as 400 Neo.ClientError.Request.Invalid', () => {
    const nested = (d: number) => '{"p":'.repeat(d - 1) + '{}' + '}'.repeat(d - 1);
    expect(() => assertJsonDepth(nested(64), 64)).not.toThrow();
    let err: unknown;
    try {
      assertJsonDepth(nested(65), 64);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).status).toBe(400);
    expect((err as GatewayError).code).toBe('Neo.ClientError.Request.Invalid');
    expect((err as GatewayError).message).toContain('64');
  });
});
