import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareRows, kWayMerge, mergePart, type MergeSpec } from '../../src/federation/merge.js';
import { addValues, canonicalKey, compareValues, maxValue, minValue } from '../../src/federation/values.js';
import { hashShard, shardsForKey } from '../../src/topology/shard-key.js';
import type { TypedValue } from '../../src/transport/types.js';

const int = (n: number | bigint): TypedValue => ({ $type: 'Integer', _value: String(n) });
const str = (s: string): TypedValue => ({ $type: 'String', _value: s });
const NULL: TypedValue = { $type: 'Null', _value: null };
const valueArb: fc.Arbitrary<TypedValue> = fc.oneof(
  fc.integer({ min: -50, max: 50 }).map(int),
  fc.constantFrom('a', 'b', 'c', 'ab').map(str),
  fc.constant(NULL),
  fc.double({ min: -50, max: 50, noNaN: true }).map((f): TypedValue => ({ $type: 'Float', _value: String(f) })),
);

describe('Cypher value order', () => {
  it('is a total order (antisymmetric, transitive)', () => {
    fc.assert(
      fc.property(valueArb, valueArb, valueArb, (a, b, c) => {
        expect(Math.sign(compareValues(a, b)) + 0).toBe(-Math.sign(compareValues(b, a)) + 0);
        if (compareValues(a, b) <= 0 && compareValues(b, c) <= 0) expect(compareValues(a, c)).toBeLessThanOrEqual(0);
      }),
    );
  });

  it('sorts null last ascending, numbers across Integer/Float, strings before numbers', () => {
    const sorted = [int(2), NULL, str('b'), { $type: 'Float', _value: '1.5' } as TypedValue, str('a')].sort(compareValues);
    expect(sorted.map((v) => v._value)).toEqual(['a', 'b', '1.5', '2', null]);
  });

  it('treats Integer 1 and Float 1.0 as the same grouping key', () => {
    expect(canonicalKey(int(1))).toBe(canonicalKey({ $type: 'Float', _value: '1.0' }));
    expect(canonicalKey(int(1))).not.toBe(canonicalKey(str('1')));
  });
});

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

describe('decomposed aggregates', () => {
  // shard rows: [key, count, sum, min, max, sumForAvg, countForAvg, collected]
  const spec: MergeSpec = {
    columns: ['k', 'c', 's', 'lo', 'hi', 'mean', 'all'],
    outputs: [
      { kind: 'value', src: 0 },
      { kind: 'aggregate', fn: 'count', src: 1 },
      { kind: 'aggregate', fn: 'sum', src: 2 },
      { kind: 'aggregate', fn: 'min', src: 3 },
      { kind: 'aggregate', fn: 'max', src: 4 },
      { kind: 'aggregate', fn: 'avg', src: 5, src2: 6 },
      { kind: 'aggregate', fn: 'collect', src: 7 },
    ],
    aggregating: true,
    distinct: false,
    order: [{ index: 0, desc: false }],
    shardsSorted: false,
    skip: 0,
    limit: undefined,
  };

  function shardAggregate(rows: [string, number][]): TypedValue[][] {
    const groups = new Map<string, number[]>();
    for (const [k, v] of rows) groups.set(k, [...(groups.get(k) ?? []), v]);
    return [...groups.entries()].map(([k, vs]) => [
      str(k),
      int(vs.length),
      int(vs.reduce((a, b) => a + b, 0)),
      int(Math.min(...vs)),
      int(Math.max(...vs)),
      int(vs.reduce((a, b) => a + b, 0)),
      int(vs.length),
      { $type: 'List', _value: vs.map(int) },
    ]);
  }

  it('combining per-shard aggregates equals aggregating all rows at once', () => {
    const rowArb = fc.tuple(fc.constantFrom('x', 'y', 'z'), fc.integer({ min: -100, max: 100 }));
    fc.assert(
      fc.property(fc.array(fc.array(rowArb, { maxLength: 15 }), { minLength: 1, maxLength: 5 }), (shards) => {
        const merged = mergePart(spec, shards.map(shardAggregate));
        const whole = shardAggregate(shards.flat());
        expect(merged.length).toBe(whole.length);
        for (const row of merged) {
          const w = whole.find((r) => r[0]!._value === row[0]!._value)!;
          expect(row.slice(1, 5)).toEqual(w.slice(1, 5));
          expect(Number(row[5]!._value)).toBeCloseTo(Number(w[5]!._value) / Number(w[6]!._value), 9);
          expect((row[6] as { _value: TypedValue[] })._value.map((v) => Number(v._value)).sort((a, b) => a - b)).toEqual(
            (w[7] as { _value: TypedValue[] })._value.map((v) => Number(v._value)).sort((a, b) => a - b),
          );
        }
      }),
    );
  });

  it('keeps Integer sums exact past 2^53 and refuses to overflow 64 bits', () => {
    expect(addValues(int(2n ** 60n), int(2n ** 60n))).toEqual(int(2n ** 61n));
    expect(() => addValues(int(2n ** 62n), int(2n ** 62n))).toThrow(/overflow/);
    expect(minValue(NULL, int(3))).toEqual(int(3));
    expect(maxValue(int(3), NULL)).toEqual(int(3));
  });

  it('answers one row for an aggregation without keys over no data', () => {
    const noKeys: MergeSpec = { ...spec, columns: ['c'], outputs: [{ kind: 'aggregate', fn: 'count', src: 0 }], order: [] };
    expect(mergePart(noKeys, [[], []])).toEqual([[int(0)]]);
  });

  it('orders with ties broken stably', () => {
    const cmp = compareRows([{ index: 0, desc: true }]);
    expect(cmp([int(2)], [int(1)])).toBeLessThan(0);
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
    const ranged = { shards: ['low', 'high'], shardKey: { strategy: 'range' as const, ranges: [{ shard: 'low', to: 100 }, { shard: 'high', from: 100 }] } };
    expect(shardsForKey('r', ranged, '99')).toEqual(['low']);
    expect(shardsForKey('r', ranged, '100')).toEqual(['high']);
    const lookup = { shards: ['a', 'b'], shardKey: { strategy: 'lookup' as const, map: { x: 'a' } } };
    expect(shardsForKey('l', lookup, 'x')).toEqual(['a']);
    expect(() => shardsForKey('l', lookup, 'y')).toThrow(/maps to no shard/);
  });
});
