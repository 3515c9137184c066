/**
 * JSON text as Neo4j's Query API writes it (src/http/json-text.ts) and the response encoder built
 * on it (encodeQueryResponse). Expected texts are what Neo4j 5.26 wrote for the same values;
 * roundtrip.test.ts compares whole bodies with Neo4j's own.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TypedValue } from '../../src/values/typed.js';
import { encodeQueryResponse } from '../../src/http/codec.js';
import { javaHashMapOrder, jsonString, plainJson, typedJson } from '../../src/http/json-text.js';
import { typedValueA } from './values-arbitraries.js';

const t = (type: TypedValue['$type'], v: string) => ({ $type: type, _value: v }) as TypedValue;

describe('JSON text as Neo4j writes it', () => {
  it.each([
    ['a\u0001\u001f\n\t\r\b\f\u007f"\\/é\u{1F600}\u2028', '"a\\u0001\\u001F\\n\\t\\r\\b\\f\u007f\\"\\\\/é\\uD83D\\uDE00\u2028"'],
    ['plain', '"plain"'],
    ['', '""'],
  ])('string %j -> %s', (s, text) => {
    expect(jsonString(s)).toBe(text);
  });

  it('strings read back unchanged', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        expect(JSON.parse(jsonString(s))).toBe(s);
      }),
    );
  });

  it.each([
    ['1.5', '1.5'],
    ['0.10000000149011612', '0.1'],
    ['3.4028234663852886E38', '3.4028235E38'],
    ['1.401298464324817E-45', '1.4E-45'],
    ['1.6777217E7', '1.6777217E7'],
    ['0.30000000000000004', '0.30000000000000004'],
    ['1.0E20', '1.0E20'],
    ['-0.0', '-0.0'],
    ['NaN', '"NaN"'],
    ['Infinity', '"Infinity"'],
    ['-Infinity', '"-Infinity"'],
    ['9.999999999999999E22', '9.999999999999999E22'],
  ])('plain Float %s -> %s', (v, text) => {
    expect(plainJson(t('Float', v))).toBe(text);
  });

  it('plain Integers are their digits at any size, and only digits are written as numbers', () => {
    expect(plainJson(t('Integer', '-9223372036854775808'))).toBe('-9223372036854775808');
    expect(() => plainJson(t('Integer', '1,"x":2'))).toThrow();
  });

  it.each([
    [
      ['a', 'b', 'c'],
      ['a', 'b', 'c'],
    ],
    [
      ['c', 'b', 'a'],
      ['a', 'b', 'c'],
    ],
    [
      ['', 'a', '\uFF5Aaa'],
      ['', '\uFF5Aaa', 'a'],
    ],
    [
      ['a', '\uFF5Aaa'],
      ['\uFF5Aaa', 'a'],
    ],
    [
      ['q', 'a', 'Aa', 'BB', 'x', 'name', 'id'],
      ['Aa', 'BB', 'q', 'a', 'x', 'name', 'id'],
    ],
    [
      ['k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7', 'k8', 'k9', 'k10', 'k11', 'k12', 'k13', 'zz'],
      ['zz', 'k1', 'k2', 'k3', 'k4', 'k5', 'k11', 'k6', 'k10', 'k7', 'k13', 'k8', 'k12', 'k9'],
    ],
  ])('map keys %j are written in Java HashMap order %j', (keys, order) => {
    expect(javaHashMapOrder(keys)).toEqual(order);
  });

  it('typed and plain JSON are valid JSON of the same value', () => {
    fc.assert(
      fc.property(typedValueA, (v) => {
        const typed = JSON.parse(typedJson(v)) as TypedValue;
        expect(typed).toEqual(v);
        expect(() => JSON.parse(plainJson(v)) as unknown).not.toThrow();
      }),
      { numRuns: 500 },
    );
  });
});

describe('encodeQueryResponse', () => {
  const marker = '\u0000n4gw-int\u0000123\u0000n4gw-int\u0000';

  it('never turns a string into a number (the old big-integer marker)', () => {
    for (const typed of [false, true]) {
      const text = encodeQueryResponse({
        result: { fields: ['s'], values: [[t('String', marker)]], notifications: [] },
        bookmarks: [],
        includeCounters: false,
        typed,
      });
      const body = JSON.parse(text) as { data: { values: unknown[][] } };
      expect(body.data.values[0]![0]).toEqual(typed ? t('String', marker) : marker);
    }
  });

  it('writes big integers as digits, with Neo4j members in Neo4j order', () => {
    const result = { fields: ['n', 'f'], values: [[t('Integer', '9007199254740993'), t('Float', '1.0')]], notifications: [], counters: { nodesCreated: 0 } };
    expect(encodeQueryResponse({ result, bookmarks: ['b'], includeCounters: true, typed: false })).toBe(
      '{"data":{"fields":["n","f"],"values":[[9007199254740993,1.0]]},"counters":{"nodesCreated":0},"bookmarks":["b"]}',
    );
    expect(
      encodeQueryResponse({
        result: { ...result, error: { code: 'X', message: 'm' } },
        bookmarks: ['b'],
        includeCounters: true,
        typed: true,
        extra: { gateway: { missingShards: [] } },
      }),
    ).toBe(
      '{"data":{"fields":["n","f"],"values":[[{"$type":"Integer","_value":"9007199254740993"},{"$type":"Float","_value":"1.0"}]]},"errors":[{"code":"X","message":"m"}],"gateway":{"missingShards":[]}}',
    );
  });
});
