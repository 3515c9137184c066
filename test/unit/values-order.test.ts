/**
 * compareOrderBy (src/values/order.ts): Neo4j's ORDER BY order. The integration test
 * values-oracle.test.ts proves it against Neo4j for every value a statement can hold; these cases
 * pin the rules as data (each row ascends strictly), cover nodes, relationships and paths (which
 * cannot be sent to Neo4j as parameters), and check that it is a total order.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TypedValue } from '../../src/values/typed.js';
import { compareCodePoints, compareOrderBy } from '../../src/values/order.js';
import { typedValueA } from './values-arbitraries.js';

const int = (v: string | number): TypedValue => ({ $type: 'Integer', _value: String(v) });
const float = (v: string): TypedValue => ({ $type: 'Float', _value: v });
const str = (v: string): TypedValue => ({ $type: 'String', _value: v });
const list = (...v: TypedValue[]): TypedValue => ({ $type: 'List', _value: v });
const t = (type: TypedValue['$type'], v: string) => ({ $type: type, _value: v }) as TypedValue;
const node = (id: string): TypedValue => ({ $type: 'Node', _value: { _element_id: id, _labels: [], _properties: {} } });
const rel = (id: string): TypedValue => ({
  $type: 'Relationship',
  _value: { _element_id: id, _start_node_element_id: '4:db:0', _end_node_element_id: '4:db:1', _type: 'R', _properties: {} },
});
const path = (...parts: TypedValue[]): TypedValue => ({ $type: 'Path', _value: parts });
const NULL: TypedValue = { $type: 'Null', _value: null };

/** each row strictly ascends, as Neo4j sorts it (most rows observed on Neo4j 5.26, see the report) */
const ASCENDING: { rule: string; values: TypedValue[] }[] = [
  {
    rule: 'types: map < node < relationship < list < path < point < datetime < localdatetime < date < time < localtime < duration < string < boolean < number < null',
    values: [
      { $type: 'Map', _value: {} },
      node('4:db:1'),
      rel('5:db:1'),
      list(),
      path(node('4:db:1')),
      t('Point', 'SRID=7203;POINT (1.0 2.0)'),
      t('OffsetDateTime', '2020-01-01T00:00:00Z'),
      t('LocalDateTime', '2020-01-01T00:00:00'),
      t('Date', '2020-01-01'),
      t('Time', '12:00:00Z'),
      t('LocalTime', '12:00:00'),
      t('Duration', 'P1D'),
      str('a'),
      { $type: 'Boolean', _value: false },
      int(1),
      NULL,
    ],
  },
  {
    rule: 'numbers, Integer and Float together; -0.0 < 0.0; NaN above +Infinity',
    values: [float('-Infinity'), int('-9223372036854775808'), int(-1), float('-0.0'), float('0.0'), float('0.5'), int(1), float('Infinity'), float('NaN')],
  },
  { rule: 'beyond 2^53 an Integer is exact', values: [float('9.007199254740992E15'), int('9007199254740993')] },
  {
    rule: 'beyond 2^53 a Float compares as the decimal Java prints (2^60 prints 1.15292150460684698E18)',
    values: [int('1152921504606846977'), float('1.15292150460684698E18'), int('1152921504606846981')],
  },
  {
    rule: 'strings by code point (U+1F600 after U+FF5A)',
    values: [str(''), str('a'), str('aa'), str('b'), str('é'), str('\uE000'), str('\uFF5A'), str('\u{1F600}'), str('\u{1F600}a')],
  },
  {
    rule: 'lists element by element, then shorter first; byte arrays are lists of signed bytes',
    values: [list(), list(str('a')), t('Base64', '/w=='), list(int(0)), list(int(1)), t('Base64', 'AQI='), list(int(1), int(3)), list(int(1), int(3), NULL)],
  },
  {
    rule: 'maps by size, then sorted keys (UTF-16 order), then values',
    values: [
      { $type: 'Map', _value: {} },
      { $type: 'Map', _value: { b: int(0) } },
      { $type: 'Map', _value: { '\u{1F600}': int(0) } },
      { $type: 'Map', _value: { '\uFF5A': int(0) } },
      { $type: 'Map', _value: { a: int(0), b: int(0) } },
      { $type: 'Map', _value: { a: int(1), b: int(0) } },
    ],
  },
  {
    rule: 'datetimes by instant, then offset, then offsets before zones, then zone names',
    values: [
      t('OffsetDateTime', '2020-01-01T11:59:59.999999999Z'),
      t('OffsetDateTime', '2020-01-01T12:00:00Z'),
      t('OffsetDateTime', '2020-01-01T13:00:00+01:00'),
      t('ZonedDateTime', '2020-01-01T13:00:00+01:00[Europe/Berlin]'),
      t('ZonedDateTime', '2020-01-01T13:00:00+01:00[Europe/Paris]'),
      t('OffsetDateTime', '2020-01-01T12:00:00.000000001Z'),
    ],
  },
  {
    rule: 'datetimes of years beyond 9999 and before 0',
    values: [
      t('OffsetDateTime', '-999999999-01-01T00:00:00Z'),
      t('OffsetDateTime', '-0001-12-31T23:59:59Z'),
      t('OffsetDateTime', '+999999999-12-31T23:59:59Z'),
    ],
  },
  {
    rule: 'times by UTC time of day, not wrapped, then offset',
    values: [t('Time', '00:30:00+01:00'), t('Time', '00:00:00Z'), t('Time', '01:00:00+01:00'), t('Time', '23:00:00-05:00')],
  },
  {
    rule: 'durations by average length (a month is 2629746 s), then nanos, months, days, seconds',
    values: [
      t('Duration', 'PT-1S'),
      t('Duration', 'PT0S'),
      t('Duration', 'PT24H'),
      t('Duration', 'P1D'),
      t('Duration', 'P30DT10H29M6S'),
      t('Duration', 'P1M'),
      t('Duration', 'P40D'),
    ],
  },
  {
    rule: 'points by CRS code, then 2D before 3D, then coordinates (-0.0 < 0.0)',
    values: [
      t('Point', 'SRID=4326;POINT (1.0 2.0)'),
      t('Point', 'SRID=4979;POINT Z (0.0 0.0 0.0)'),
      t('Point', 'SRID=7203;POINT (-0.0 5.0)'),
      t('Point', 'SRID=7203;POINT (0.0 -5.0)'),
      t('Point', 'SRID=9157;POINT Z (0.0 0.0 0.0)'),
    ],
  },
  { rule: 'nodes and relationships by the internal id in their element id', values: [node('4:db:2'), node('4:db:10'), node('4:db:100')] },
  {
    rule: 'paths by start node id, then relationship ids, then length',
    values: [
      path(node('4:db:1')),
      path(node('4:db:1'), rel('5:db:3'), node('4:db:2')),
      path(node('4:db:1'), rel('5:db:3'), node('4:db:9'), rel('5:db:1'), node('4:db:1')),
      path(node('4:db:1'), rel('5:db:4'), node('4:db:0')),
      path(node('4:db:2')),
    ],
  },
];

/** pairs Neo4j sorts as equal (ties keep arrival order) */
const TIES: { rule: string; a: TypedValue; b: TypedValue }[] = [
  { rule: 'Integer and Float of one value', a: int(1), b: float('1.0') },
  { rule: 'a byte array and the list of its signed bytes', a: t('Base64', 'AQL/'), b: list(int(1), int(2), int(-1)) },
  { rule: 'one node seen twice', a: node('4:db:7'), b: node('4:db:7') },
  { rule: 'NaN and NaN', a: float('NaN'), b: float('NaN') },
];

describe('compareOrderBy: Neo4j ORDER BY order', () => {
  for (const { rule, values } of ASCENDING) {
    it(rule, () => {
      for (let i = 0; i < values.length; i++) {
        for (let j = 0; j < values.length; j++) {
          const c = Math.sign(compareOrderBy(values[i]!, values[j]!));
          expect({ a: values[i], b: values[j], c }).toEqual({ a: values[i], b: values[j], c: Math.sign(i - j) });
        }
      }
    });
  }

  it.each(TIES.map((x) => [x.rule, x] as const))('ties: %s', (_rule, { a, b }) => {
    expect(compareOrderBy(a, b)).toBe(0);
    expect(compareOrderBy(b, a)).toBe(0);
  });

  it('code point order equals the order of the strings as code point arrays', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (a, b) => {
        const cps = (s: string) => [...s].map((c) => c.codePointAt(0)!);
        const x = cps(a);
        const y = cps(b);
        let expected = 0;
        for (let i = 0; i < Math.min(x.length, y.length) && expected === 0; i++) expected = Math.sign(x[i]! - y[i]!);
        if (expected === 0) expected = Math.sign(x.length - y.length);
        expect(Math.sign(compareCodePoints(a, b))).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('is a total order: antisymmetric and transitive', () => {
    fc.assert(
      fc.property(typedValueA, typedValueA, typedValueA, (a, b, c) => {
        expect(Math.sign(compareOrderBy(a, b))).toBe(-Math.sign(compareOrderBy(b, a)) || 0);
        const sorted = [a, b, c].sort(compareOrderBy);
        expect(compareOrderBy(sorted[0]!, sorted[2]!)).toBeLessThanOrEqual(0);
        expect(compareOrderBy(sorted[0]!, sorted[1]!)).toBeLessThanOrEqual(0);
        expect(compareOrderBy(sorted[1]!, sorted[2]!)).toBeLessThanOrEqual(0);
      }),
      { numRuns: 2000 },
    );
  });
});
