/**
 * The gateway's merge pipeline (src/federation/pipeline.ts), pure: combining per-shard results
 * equals computing over all rows at once, for every stage a plan uses. Shard keys too.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { kWayMerge, runPipeline } from '../../src/federation/pipeline.js';
import type { Stage } from '../../src/federation/plan.js';
import { hashShard, shardsForKey } from '../../src/topology/shard-key.js';
import type { TypedValue } from '../../src/values/typed.js';
import { aggregator } from '../../src/values/aggregate.js';
import { compareOrderBy } from '../../src/values/order.js';

const int = (n: number | bigint): TypedValue => ({ $type: 'Integer', _value: String(n) });
const str = (s: string): TypedValue => ({ $type: 'String', _value: s });
const list = (xs: TypedValue[]): TypedValue => ({ $type: 'List', _value: xs });

describe('k-way merge', () => {
  it('equals sorting the concatenation, and takes only what it needs', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 12 }), { minLength: 1, maxLength: 6 }), fc.nat(20), (runs, take) => {
        const sortedRuns = runs.map((r) => [...r].sort((a, b) => a - b));
        const all = sortedRuns.flat().sort((a, b) => a - b);
        expect(kWayMerge(sortedRuns, (a, b) => a - b)).toEqual(all);
        expect(kWayMerge(sortedRuns, (a, b) => a - b, take)).toEqual(all.slice(0, take));
      }),
    );
  });
});

/** what one shard answers for `RETURN k, count(*), sum(v), min(v), max(v), avg(v), sum(v), count(v), collect(v), collect(DISTINCT v)` */
function shardAnswer(rows: [string, number][]): TypedValue[][] {
  const groups = new Map<string, number[]>();
  for (const [k, v] of rows) groups.set(k, [...(groups.get(k) ?? []), v]);
  return [...groups.entries()].map(([k, vs]) => {
    const avg = aggregator('avg', { distinct: false });
    for (const v of vs) avg.add(int(v));
    return [
      str(k),
      int(vs.length),
      int(vs.reduce((a, b) => a + b, 0)),
      int(Math.min(...vs)),
      int(Math.max(...vs)),
      avg.result(),
      int(vs.reduce((a, b) => a + b, 0)),
      int(vs.length),
      list(vs.map(int)),
      list([...new Set(vs)].map(int)),
    ];
  });
}

const STAGES: Stage[] = [
  { op: 'merge', order: [] },
  {
    op: 'aggregate',
    keys: [0],
    aggregates: [
      { mode: 'partial', fn: 'count', col: 1 },
      { mode: 'partial', fn: 'sum', col: 2 },
      { mode: 'partial', fn: 'min', col: 3 },
      { mode: 'partial', fn: 'max', col: 4 },
      { mode: 'partial-avg', avg: 5, sum: 6, count: 7 },
      { mode: 'partial-collect', col: 8 },
      { mode: 'values', fn: 'count', distinct: true, col: 9 },
    ],
  },
  { op: 'sort', order: [{ col: 0, desc: false }] },
];

describe('decomposed aggregates', () => {
  it('combining per-shard aggregates equals aggregating all rows at once', () => {
    const rowArb = fc.tuple(fc.constantFrom('x', 'y', 'z'), fc.integer({ min: -100, max: 100 }));
    fc.assert(
      fc.property(fc.array(fc.array(rowArb, { maxLength: 15 }), { minLength: 1, maxLength: 5 }), (shards) => {
        const merged = runPipeline(STAGES, shards.map(shardAnswer), {});
        const whole = shardAnswer(shards.flat()).sort((a, b) => compareOrderBy(a[0]!, b[0]!));
        expect(merged.map((r) => r[0])).toEqual(whole.map((r) => r[0]));
        merged.forEach((row, i) => {
          const w = whole[i]!;
          expect(row.slice(1, 5)).toEqual(w.slice(1, 5));
          expect(Number(row[5]!._value)).toBeCloseTo(Number(w[6]!._value) / Number(w[7]!._value), 9);
          const sorted = (v: TypedValue) => (v as { _value: TypedValue[] })._value.map((x) => Number(x._value)).sort((a, b) => a - b);
          expect(sorted(row[6]!)).toEqual(sorted(w[8]!));
          expect(row[7]).toEqual(int(sorted(w[9]!).length));
        });
      }),
    );
  });

  it('one contributing shard: its own avg passes through unchanged', () => {
    const only = [
      [str('k'), int(1), int(0), int(0), int(0), { $type: 'Float', _value: '-2.7755575615628914E-16' } as TypedValue, int(0), int(7), list([]), list([])],
    ];
    const out = runPipeline(STAGES, [only, []], {});
    expect(out[0]![5]).toEqual({ $type: 'Float', _value: '-2.7755575615628914E-16' });
  });

  it('an aggregation without keys answers one row over no data', () => {
    const stages: Stage[] = [
      { op: 'merge', order: [] },
      {
        op: 'aggregate',
        keys: [],
        aggregates: [
          { mode: 'raw', fn: 'count', distinct: false, col: undefined },
          { mode: 'raw', fn: 'collect', distinct: false, col: 0 },
        ],
      },
    ];
    expect(runPipeline(stages, [[], []], {})).toEqual([[int(0), list([])]]);
  });

  it('keeps Integer sums exact past 2^53 and overflows to Float as Neo4j does', () => {
    const sum: Stage[] = [
      { op: 'merge', order: [] },
      { op: 'aggregate', keys: [], aggregates: [{ mode: 'partial', fn: 'sum', col: 0 }] },
    ];
    expect(runPipeline(sum, [[[int(2n ** 60n)]], [[int(2n ** 60n)]]], {})).toEqual([[int(2n ** 61n)]]);
    expect(runPipeline(sum, [[[int(2n ** 62n)]], [[int(2n ** 62n)]]], {})[0]![0]!.$type).toBe('Float');
  });
});

describe('ordering, de-duplication, paging', () => {
  it('k-way merges sorted shards, de-duplicates with Cypher equivalence, pages with parameters', () => {
    const stages: Stage[] = [
      { op: 'merge', order: [{ col: 0, desc: true }] },
      { op: 'distinct' },
      { op: 'slice', skip: { kind: 'literal', value: '1' }, limit: { kind: 'param', name: 'l' } },
    ];
    const a = [[int(9)], [int(5)], [int(1)]];
    const b = [[{ $type: 'Float', _value: '9.0' } as TypedValue], [int(7)], [int(5)]];
    expect(runPipeline(stages, [a, b], { l: int(2) })).toEqual([[int(7)], [int(5)]]);
    expect(() => runPipeline(stages, [a, b], { l: int(-1) })).toThrow(/non-negative/);
    expect(() => runPipeline(stages, [a, b], {})).toThrow(/Expected parameter/);
  });

  it('refuses to order nodes (Neo4j orders them by internal ids)', () => {
    const node: TypedValue = { $type: 'Node', _value: { _element_id: '4:x:1', _labels: [], _properties: {} } };
    expect(() => runPipeline([{ op: 'merge', order: [{ col: 0, desc: false }] }], [[[node]], [[node]]], {})).toThrow(/internal ids/);
  });
});

describe('shard keys', () => {
  const composite = { shards: ['s1', 's2', 's3', 's4'] };
  it('hashing is stable and spreads keys over every shard', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 4000; i++) {
      const s = hashShard(composite.shards, `key-${i}`);
      expect(hashShard(composite.shards, `key-${i}`)).toBe(s);
      counts.set(s, (counts.get(s) ?? 0) + 1);
    }
    for (const s of composite.shards) expect(counts.get(s)!).toBeGreaterThan(850);
  });

  it('adding a shard moves only the keys that go to it', () => {
    const grown = [...composite.shards, 's5'];
    for (let i = 0; i < 2000; i++) {
      const before = hashShard(composite.shards, `k${i}`);
      const after = hashShard(grown, `k${i}`);
      if (after !== 's5') expect(after).toBe(before);
    }
  });

  it('ranges pick by bound; lookups by map', () => {
    const ranged = {
      shards: ['low', 'high'],
      shardKey: {
        strategy: 'range' as const,
        ranges: [
          { shard: 'low', to: 100 },
          { shard: 'high', from: 100 },
        ],
      },
    };
    expect(shardsForKey('r', ranged, '99')).toEqual(['low']);
    expect(shardsForKey('r', ranged, '100')).toEqual(['high']);
    const lookup = { shards: ['a', 'b'], shardKey: { strategy: 'lookup' as const, map: { x: 'a' } } };
    expect(shardsForKey('l', lookup, 'x')).toEqual(['a']);
    expect(() => shardsForKey('l', lookup, 'y')).toThrow(/maps to no shard/);
  });
});
