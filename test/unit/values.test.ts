import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromDriver, toDriver } from '../../src/transport/bolt-values.js';
import { formatDurationParts, formatFloat } from '../../src/values/format.js';
import { negotiate, parseQueryRequest, plainOf, typedFromPlain } from '../../src/http/codec.js';
import type { TypedValue } from '../../src/values/typed.js';
import { GatewayError } from '../../src/errors/index.js';

describe('float formatting (as Java prints doubles, which is what Neo4j emits)', () => {
  it.each([
    [1, '1.0'],
    [1.5, '1.5'],
    [-0, '-0.0'],
    [0, '0.0'],
    [1e20, '1.0E20'],
    [1.0e-4, '1.0E-4'],
    [0.001, '0.001'],
    [1234567.5, '1234567.5'],
    [12345678.9, '1.23456789E7'],
    [Number.NaN, 'NaN'],
    [Infinity, 'Infinity'],
    [-Infinity, '-Infinity'],
  ])('%s -> %s', (f, s) => {
    expect(formatFloat(f)).toBe(s);
  });

  it('is lossless', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true }), (f) => {
        expect(Object.is(Number(formatFloat(f)), f)).toBe(true);
      }),
    );
  });
});

describe('duration formatting', () => {
  it.each([
    [[0, 1, 7200, 0], 'P1DT2H'],
    [[14, 25, 18367, 500000000], 'P1Y2M25DT5H6M7.5S'],
    [[0, 0, 0, 0], 'PT0S'],
    [[0, 0, -90, 0], 'PT-1M-30S'],
  ])('%j -> %s', (parts, s) => {
    const [mo, d, sec, ns] = parts as [number, number, number, number];
    expect(formatDurationParts(mo, d, sec, ns)).toBe(s);
  });
});

const canonical: TypedValue[] = [
  { $type: 'Date', _value: '2024-02-29' },
  { $type: 'LocalTime', _value: '12:34:56.789' },
  { $type: 'Time', _value: '12:00:00+01:00' },
  { $type: 'Time', _value: '23:59:59.000000001Z' },
  { $type: 'LocalDateTime', _value: '2020-01-02T03:04:00' },
  { $type: 'OffsetDateTime', _value: '2020-01-02T03:04:05.123-05:30' },
  { $type: 'ZonedDateTime', _value: '2020-06-02T03:04:05+02:00[Europe/Berlin]' },
  { $type: 'Duration', _value: 'P1Y2M3DT4H5M6.7S' },
  { $type: 'Point', _value: 'SRID=4326;POINT (2.0 1.5)' },
  { $type: 'Point', _value: 'SRID=9157;POINT Z (1.0 2.0 3.0)' },
  { $type: 'Integer', _value: '-9223372036854775808' },
  { $type: 'Float', _value: '1.0E20' },
  { $type: 'Base64', _value: 'AQIDBA==' },
  {
    $type: 'List',
    _value: [
      { $type: 'String', _value: 'x' },
      { $type: 'Null', _value: null },
    ],
  },
  { $type: 'Map', _value: { a: { $type: 'Boolean', _value: true } } },
];

describe('typed values <-> driver values', () => {
  it.each(canonical.map((v) => [v.$type, v] as const))('%s round-trips', (_t, v) => {
    expect(fromDriver(toDriver(v))).toEqual(v);
  });

  it('integers round-trip over the whole 64-bit range', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (n) => {
        const v: TypedValue = { $type: 'Integer', _value: n.toString() };
        expect(fromDriver(toDriver(v))).toEqual(v);
      }),
    );
  });

  it.each([
    { $type: 'Integer', _value: '9223372036854775808' },
    { $type: 'Integer', _value: '1.5' },
    { $type: 'Date', _value: '2020-13' },
    { $type: 'Point', _value: 'POINT (1 2)' },
    { $type: 'Nope', _value: 1 },
    { $type: 'Node', _value: {} },
    { nothing: true },
  ])('refuses %j with a client error', (v) => {
    expect(() => toDriver(v as TypedValue)).toThrow(GatewayError);
    try {
      toDriver(v as TypedValue);
    } catch (e) {
      expect((e as GatewayError).status).toBe(400);
    }
  });
});

describe('plain JSON', () => {
  it('maps integral numbers to Integer and others to Float', () => {
    expect(typedFromPlain(1)).toEqual({ $type: 'Integer', _value: '1' });
    expect(typedFromPlain(1.25)).toEqual({ $type: 'Float', _value: '1.25' });
    expect(typedFromPlain({ a: [true, null] })).toEqual({
      $type: 'Map',
      _value: {
        a: {
          $type: 'List',
          _value: [
            { $type: 'Boolean', _value: true },
            { $type: 'Null', _value: null },
          ],
        },
      },
    });
  });

  it('renders zoned date-times with their offset only', () => {
    expect(plainOf({ $type: 'ZonedDateTime', _value: '2020-06-02T03:04:05+02:00[Europe/Berlin]' })).toBe('2020-06-02T03:04:05+02:00');
  });
});

describe('request decoding', () => {
  it('defaults to WRITE and accepts lower-case modes', () => {
    expect(parseQueryRequest('{"statement":"RETURN 1"}', 'application/json').accessMode).toBe('WRITE');
    expect(parseQueryRequest('{"statement":"RETURN 1","accessMode":"read"}', 'application/json').accessMode).toBe('READ');
  });

  it('negotiates the response type', () => {
    expect(negotiate(undefined)).toBe('plain');
    expect(negotiate('application/vnd.neo4j.query, application/json')).toBe('typed');
    expect(negotiate('application/json;q=1, application/vnd.neo4j.query;q=0.5')).toBe('plain');
    expect(negotiate('*/*')).toBe('plain');
    expect(negotiate('text/html')).toBeUndefined();
  });
});
