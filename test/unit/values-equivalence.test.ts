/**
 * equivalenceKey / rowKey (src/values/equivalence.ts): Neo4j's DISTINCT and grouping buckets.
 * values-oracle.test.ts proves them against Neo4j; these cases pin the rules as data and cover
 * nodes, relationships and paths.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TypedValue } from '../../src/values/typed.js';
import { equivalenceKey, rowKey } from '../../src/values/equivalence.js';
import { typedValueA } from './values-arbitraries.js';

const t = (type: TypedValue['$type'], v: string) => ({ $type: type, _value: v }) as TypedValue;
const int = (v: string | number) => t('Integer', String(v));
const float = (v: string) => t('Float', v);
const list = (...v: TypedValue[]): TypedValue => ({ $type: 'List', _value: v });
const map = (m: Record<string, TypedValue>): TypedValue => ({ $type: 'Map', _value: m });
const node = (id: string, props: Record<string, TypedValue> = {}): TypedValue => ({
  $type: 'Node',
  _value: { _element_id: id, _labels: [], _properties: props },
});
const rel = (id: string): TypedValue => ({
  $type: 'Relationship',
  _value: { _element_id: id, _start_node_element_id: '4:db:0', _end_node_element_id: '4:db:1', _type: 'R', _properties: {} },
});
const NULL: TypedValue = { $type: 'Null', _value: null };

/** each row: values Neo4j puts in one bucket */
const SAME: { rule: string; values: TypedValue[] }[] = [
  { rule: '1, 1.0', values: [int(1), float('1.0')] },
  { rule: '0, 0.0, -0.0', values: [int(0), float('0.0'), float('-0.0')] },
  { rule: 'a Float 2^63 and Long.MAX_VALUE (Java saturates the cast)', values: [float('9.223372036854775807E18'), int('9223372036854775807')] },
  { rule: 'exact beyond 2^53: 2^60 as Float and as Integer', values: [float('1.15292150460684698E18'), int('1152921504606846976')] },
  { rule: 'null and null; [null] and [null]', values: [NULL, NULL] },
  { rule: 'lists element by element', values: [list(int(1), NULL), list(float('1.0'), NULL)] },
  {
    rule: 'a byte array and the list of its signed bytes',
    values: [t('Base64', 'AQL/'), list(int(1), int(2), int(-1)), list(float('1.0'), int(2), float('-1.0'))],
  },
  { rule: 'an empty byte array and the empty list', values: [t('Base64', ''), list()] },
  { rule: 'maps whatever their key order', values: [map({ a: int(1), b: int(2) }), map({ b: float('2.0'), a: int(1) })] },
  { rule: 'one datetime written twice', values: [t('OffsetDateTime', '2020-01-01T12:00:00Z'), t('OffsetDateTime', '2020-01-01T12:00Z')] },
  {
    rule: 'one zoned datetime',
    values: [t('ZonedDateTime', '2020-06-01T12:00:00+02:00[Europe/Paris]'), t('ZonedDateTime', '2020-06-01T12:00+02:00[Europe/Paris]')],
  },
  { rule: 'one duration', values: [t('Duration', 'PT90S'), t('Duration', 'PT1M30S')] },
  { rule: 'points with the same coordinates', values: [t('Point', 'SRID=7203;POINT (1.0 2.0)'), t('Point', 'SRID=7203;POINT (1 2)')] },
  { rule: 'one node, whatever properties it was read with', values: [node('4:db:1'), node('4:db:1', { a: int(1) })] },
];

/** pairs Neo4j keeps apart */
const DIFFERENT: { rule: string; a: TypedValue; b: TypedValue }[] = [
  { rule: 'NaN and NaN', a: float('NaN'), b: float('NaN') },
  { rule: '[NaN] and [NaN]', a: list(float('NaN')), b: list(float('NaN')) },
  { rule: '2^53 + 1 and 2^53 as Float', a: int('9007199254740993'), b: float('9.007199254740992E15') },
  { rule: 'equal instants, different offsets', a: t('OffsetDateTime', '2020-01-01T12:00:00Z'), b: t('OffsetDateTime', '2020-01-01T13:00:00+01:00') },
  {
    rule: 'an offset and a zone at the same offset',
    a: t('OffsetDateTime', '2020-01-01T12:00:00Z'),
    b: t('ZonedDateTime', '2020-01-01T12:00:00Z[Europe/London]'),
  },
  {
    rule: 'two zones at one instant and offset',
    a: t('ZonedDateTime', '2020-01-01T13:00:00+01:00[Europe/Paris]'),
    b: t('ZonedDateTime', '2020-01-01T13:00:00+01:00[Europe/Berlin]'),
  },
  {
    rule: 'the two 01:30 of a DST fall-back night',
    a: t('ZonedDateTime', '2020-11-01T01:30:00-04:00[America/New_York]'),
    b: t('ZonedDateTime', '2020-11-01T01:30:00-05:00[America/New_York]'),
  },
  { rule: 'times at one UTC instant with different offsets', a: t('Time', '12:00:00Z'), b: t('Time', '13:00:00+01:00') },
  { rule: 'durations of equal length', a: t('Duration', 'P1D'), b: t('Duration', 'PT24H') },
  { rule: 'points with -0.0 and 0.0', a: t('Point', 'SRID=7203;POINT (-0.0 2.0)'), b: t('Point', 'SRID=7203;POINT (0.0 2.0)') },
  { rule: 'one coordinate pair in two CRSs', a: t('Point', 'SRID=7203;POINT (1.0 2.0)'), b: t('Point', 'SRID=4326;POINT (1.0 2.0)') },
  { rule: 'maps with different keys, even holding null', a: map({ b: NULL }), b: map({ a: int(1) }) },
  { rule: 'a node and a relationship', a: node('4:db:1'), b: rel('4:db:1') },
  { rule: 'a string and a number', a: t('String', '1'), b: int(1) },
  { rule: 'a list and a map', a: list(), b: map({}) },
];

describe('equivalenceKey: Neo4j DISTINCT and grouping buckets', () => {
  for (const { rule, values } of SAME) {
    it(`one bucket: ${rule}`, () => {
      expect(new Set(values.map(equivalenceKey)).size).toBe(1);
    });
  }
  for (const { rule, a, b } of DIFFERENT) {
    it(`two buckets: ${rule}`, () => {
      expect(equivalenceKey(a)).not.toBe(equivalenceKey(b));
    });
  }

  it('a NaN value is never in the bucket of another value, not even itself read again', () => {
    const nan = list(float('NaN'));
    expect(equivalenceKey(nan)).not.toBe(equivalenceKey(nan));
  });

  it('rows: equal when every column is; NaN rows never', () => {
    expect(rowKey([int(1), t('String', 'a')])).toBe(rowKey([float('1.0'), t('String', 'a')]));
    expect(rowKey([int(1), t('String', 'a')])).not.toBe(rowKey([int(1), t('String', 'b')]));
    expect(rowKey([t('String', 'a|'), t('String', '')])).not.toBe(rowKey([t('String', 'a'), t('String', '|')]));
    expect(rowKey([float('NaN')])).not.toBe(rowKey([float('NaN')]));
  });

  it('is a function of the value (without NaN): equal inputs, equal keys; JSON-distinct strings, distinct keys', () => {
    fc.assert(
      fc.property(typedValueA, (v) => {
        const text = JSON.stringify(v);
        if (text.includes('NaN')) return;
        expect(equivalenceKey(JSON.parse(text) as TypedValue)).toBe(equivalenceKey(v));
      }),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        expect(equivalenceKey(t('String', a)) === equivalenceKey(t('String', b))).toBe(a === b);
      }),
    );
  });
});
