/**
 * aggregator() and the combiners (src/values/aggregate.ts, src/values/aggregate-combiners.ts). values-oracle.test.ts proves them
 * against Neo4j for generated lists; these cases, kept as data, pin the rules (each expected
 * result is what Neo4j 5.26 answered for `UNWIND <input> AS v RETURN <fn>(v)`).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors/index.js';
import type { TypedValue } from '../../src/values/typed.js';
import { aggregator, type AggregateName } from '../../src/values/aggregate.js';
import { combineAvg, combineCount, combineMax, combineMin, combineSum } from '../../src/values/aggregate-combiners.js';

const t = (type: TypedValue['$type'], v: string) => ({ $type: type, _value: v }) as TypedValue;
const i = (v: string | number) => t('Integer', String(v));
const f = (v: string) => t('Float', v);
const d = (v: string) => t('Duration', v);
const s = (v: string) => t('String', v);
const NULL: TypedValue = { $type: 'Null', _value: null };
const ints = (...v: number[]) => v.map(i);

interface Case {
  fn: AggregateName;
  distinct?: boolean;
  p?: TypedValue;
  input: TypedValue[];
  /** the typed value, or the error code */
  expected: TypedValue | string;
}

const CASES: Case[] = [
  // empty inputs and nulls
  { fn: 'count', input: [], expected: i(0) },
  { fn: 'count', input: [NULL, i(1), NULL], expected: i(1) },
  { fn: 'sum', input: [], expected: i(0) },
  { fn: 'sum', input: [NULL], expected: i(0) },
  { fn: 'avg', input: [NULL], expected: NULL },
  { fn: 'min', input: [NULL], expected: NULL },
  { fn: 'collect', input: [NULL], expected: { $type: 'List', _value: [] } },
  { fn: 'stDev', input: [], expected: NULL },
  { fn: 'stDev', input: [i(3)], expected: f('0.0') },
  { fn: 'stDevP', input: [i(3)], expected: f('0.0') },
  { fn: 'percentileDisc', p: f('0.5'), input: [], expected: NULL },
  // numbers
  { fn: 'sum', input: ints(1, 2, 3), expected: i(6) },
  { fn: 'sum', input: [i(1), f('2.0'), i(3)], expected: f('6.0') },
  { fn: 'sum', input: [i('9223372036854775807'), i(1), i(-5)], expected: f('9.223372036854776E18') },
  { fn: 'avg', input: ints(-4, -5, -5, 5, -2, 9, 2), expected: f('-2.7755575615628914E-16') },
  { fn: 'avg', input: [i(3)], expected: f('3.0') },
  { fn: 'avg', input: [f('Infinity'), f('-Infinity')], expected: f('NaN') },
  { fn: 'avg', input: [f('1.0'), f('Infinity'), f('2.0')], expected: f('Infinity') },
  { fn: 'stDev', input: ints(2, 4, 4, 4, 5, 5, 7, 9), expected: f('2.138089935299395') },
  { fn: 'stDevP', input: ints(2, 4, 4, 4, 5, 5, 7, 9), expected: f('2.0') },
  { fn: 'percentileDisc', p: f('0.5'), input: [i(1), f('2.0'), i(3)], expected: f('2.0') },
  { fn: 'percentileDisc', p: f('0.5'), input: ints(4, 1, 3, 2), expected: i(2) },
  { fn: 'percentileCont', p: f('0.5'), input: ints(4, 1, 3, 2), expected: f('2.5') },
  { fn: 'percentileCont', p: f('0.5'), input: [i(3)], expected: i(3) },
  { fn: 'percentileCont', p: i(1), input: ints(1, 9, 5), expected: i(9) },
  { fn: 'percentileDisc', p: f('0.0'), input: ints(5, 1, 3), expected: i(1) },
  { fn: 'percentileDisc', p: f('NaN'), input: ints(5, 1, 3), expected: i(1) },
  // min / max over every type; the first of equal values wins
  { fn: 'max', input: [i(1), f('1.0')], expected: i(1) },
  { fn: 'min', input: [f('1.0'), i(1)], expected: f('1.0') },
  { fn: 'max', input: [i(1), f('NaN'), s('z')], expected: f('NaN') },
  { fn: 'min', input: [i(1), s('z'), { $type: 'List', _value: [] }], expected: { $type: 'List', _value: [] } },
  // DISTINCT
  { fn: 'count', distinct: true, input: [i(1), f('1.0'), f('NaN'), f('NaN'), NULL], expected: i(3) },
  { fn: 'collect', distinct: true, input: [f('1.0'), i(1), i(2)], expected: { $type: 'List', _value: [f('1.0'), i(2)] } },
  { fn: 'sum', distinct: true, input: ints(1, 1, 2), expected: i(3) },
  // durations
  { fn: 'sum', input: [d('P1D'), d('PT1H')], expected: d('P1DT1H') },
  { fn: 'avg', input: [d('P1D'), d('PT1H')], expected: d('PT12H30M') },
  { fn: 'avg', input: [d('P1M'), d('P2M')], expected: d('P1M15DT5H14M33S') },
  { fn: 'sum', input: [d('PT-0.5S'), d('PT-0.75S')], expected: d('PT-1.25S') },
  { fn: 'min', input: [d('P1M'), d('P30DT10H29M6S')], expected: d('P30DT10H29M6S') },
  // errors Neo4j raises
  { fn: 'sum', input: [i(1), d('P1D')], expected: 'Neo.ClientError.Statement.TypeError' },
  { fn: 'avg', input: [d('P1D'), i(1)], expected: 'Neo.ClientError.Statement.TypeError' },
  { fn: 'sum', input: [s('a')], expected: 'Neo.ClientError.Statement.TypeError' },
  { fn: 'stDev', input: [d('P1D')], expected: 'Neo.ClientError.Statement.TypeError' },
  { fn: 'percentileDisc', p: f('1.5'), input: [i(1)], expected: 'Neo.ClientError.Statement.ArgumentError' },
  { fn: 'percentileDisc', p: f('1.5'), input: [NULL], expected: NULL },
  { fn: 'percentileCont', p: s('a'), input: [i(1)], expected: 'Neo.ClientError.Statement.TypeError' },
  { fn: 'sum', input: [d('P200000000000Y'), d('P200000000000Y')], expected: 'Neo.ClientError.Statement.ArgumentError' },
  { fn: 'avg', input: [d('P200000000000Y'), d('P200000000000Y')], expected: d('P200000000000Y') },
];

function run(c: Pick<Case, 'fn' | 'distinct' | 'p' | 'input'>): TypedValue | string {
  try {
    const agg = aggregator(c.fn, { distinct: c.distinct ?? false, ...(c.p ? { percentile: c.p } : {}) });
    for (const v of c.input) agg.add(v);
    return agg.result();
  } catch (err) {
    if (err instanceof GatewayError) return err.code;
    throw err;
  }
}

describe('aggregator: Neo4j aggregating functions', () => {
  it.each(
    CASES.map(
      (c) =>
        [`${c.fn}${c.distinct ? ' DISTINCT' : ''}(${c.input.map((v) => JSON.stringify(v._value)).join(', ')})${c.p ? ` p=${c.p._value}` : ''}`, c] as const,
    ),
  )('%s', (_name, c) => {
    expect(run(c)).toEqual(c.expected);
  });

  it('DISTINCT equals the plain aggregate over the first value of each class', () => {
    const values = fc.array(fc.oneof(fc.integer({ min: -3, max: 3 }).map(i), fc.constantFrom(f('1.0'), f('-0.0'), f('2.5'), NULL)), { maxLength: 12 });
    fc.assert(
      fc.property(values, fc.constantFrom<AggregateName>('count', 'sum', 'avg', 'min', 'max', 'collect', 'stDev'), (input, fn) => {
        const seen = new Set<string>();
        const firsts = input.filter((v) => {
          const k = v.$type === 'Null' ? 'null' : String(Number(v._value) === 0 ? 0 : Number(v._value));
          if (seen.has(k)) return false;
          seen.add(k);
          return true;
        });
        expect(run({ fn, distinct: true, input })).toEqual(run({ fn, input: firsts }));
      }),
    );
  });
});

describe('combiners of per-shard partial results', () => {
  it('count and Integer sums are exact; an empty part is neutral next to Duration sums', () => {
    expect(combineCount([i(2), i(0), i(5)])).toEqual(i(7));
    expect(combineSum([i('9223372036854775807'), i(-10)])).toEqual(i('9223372036854775797'));
    expect(combineSum([i(0), d('P1D'), d('PT1H')])).toEqual(d('P1DT1H'));
    expect(combineSum([i(0), d('P1D')], [i(0), i(1)])).toEqual(d('P1D'));
    expect(() => combineSum([i(1), d('P1D')])).toThrow(expect.objectContaining({ code: 'Neo.ClientError.Statement.TypeError' }) as Error);
  });

  it('Integer sum of partials: the exact total, as one database would give when no running sum overflows', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.bigInt({ min: -(2n ** 40n), max: 2n ** 40n }), { maxLength: 5 }), { minLength: 1, maxLength: 4 }), (parts) => {
        const partials = parts.map((p) => run({ fn: 'sum', input: p.map((x) => i(x.toString())) }) as TypedValue);
        expect(combineSum(partials)).toEqual(run({ fn: 'sum', input: parts.flat().map((x) => i(x.toString())) }));
      }),
    );
  });

  it('min and max of partials equal min and max of all values', () => {
    const value = fc.oneof(fc.integer({ min: -5, max: 5 }).map(i), fc.constantFrom(s('a'), s('b'), d('P1D'), NULL, f('NaN')));
    fc.assert(
      fc.property(fc.array(fc.array(value, { maxLength: 4 }), { minLength: 1, maxLength: 4 }), (parts) => {
        for (const [fn, combine] of [
          ['min', combineMin],
          ['max', combineMax],
        ] as const) {
          const partials = parts.map((p) => run({ fn, input: p }) as TypedValue);
          expect(combine(partials)).toEqual(run({ fn, input: parts.flat() }));
        }
      }),
    );
  });

  it('avg: the only part with rows gives its own avg; several parts give the mean', () => {
    const part = (values: TypedValue[]) => ({
      avg: run({ fn: 'avg', input: values }) as TypedValue,
      sum: run({ fn: 'sum', input: values }) as TypedValue,
      count: run({ fn: 'count', input: values }) as TypedValue,
    });
    const one = ints(-4, -5, -5, 5, -2, 9, 2);
    expect(combineAvg([part([]), part(one), part([NULL])])).toEqual(f('-2.7755575615628914E-16'));
    expect(combineAvg([part(ints(1, 2)), part(ints(3, 4))])).toEqual(f('2.5'));
    expect(combineAvg([part([d('P1D')]), part([d('PT1H')])])).toEqual(d('PT12H30M'));
    expect(combineAvg([part([]), part([])])).toEqual(NULL);
  });
});
