/**
 * The merge as rows arrive (src/federation/stream-merge.ts) answers exactly what the buffered
 * pipeline (runPipeline) answers over the same shard rows: same rows, same order, same ties,
 * for generated shard answers and every streamable pipeline (merge or k-way merge, then any
 * SKIP/LIMIT and projections). It holds one row per shard, and stops pulling at a LIMIT.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rowComparator, runPipeline, type Row } from '../../src/federation/pipeline.js';
import type { SortKey, Stage } from '../../src/federation/plan.js';
import { mergeStream, streamable, type RowSource } from '../../src/federation/stream-merge.js';
import type { TypedValue } from '../../src/values/typed.js';
import { scalarTypedA } from './values-arbitraries.js';

/** a shard's rows as a source, counting what was pulled and how many rows were out at once */
function source(rows: readonly Row[], pulled: { n: number }): RowSource {
  let i = 0;
  return {
    next: async () => {
      await Promise.resolve();
      pulled.n++;
      return rows[i++];
    },
  };
}

async function drain(rows: AsyncGenerator<Row>): Promise<Row[]> {
  const out: Row[] = [];
  for await (const r of rows) out.push(r);
  return out;
}

const WIDTH = 3;
// nodes, relationships and paths cannot be ordered across shards (refused, see the last case)
const orderableA = scalarTypedA.filter((v) => !['Node', 'Relationship', 'Path'].includes(v.$type));
const rowA = fc.array(orderableA, { minLength: WIDTH, maxLength: WIDTH });
const intA = fc.oneof(fc.constant(undefined), fc.nat(12));
const sortKeysA: fc.Arbitrary<SortKey[]> = fc.uniqueArray(fc.record({ col: fc.nat(WIDTH - 1), desc: fc.boolean() }), {
  selector: (k) => k.col,
  maxLength: WIDTH,
});
const tailA: fc.Arbitrary<Stage[]> = fc.array(
  fc.oneof(
    fc.record({ op: fc.constant('slice' as const), skip: intA, limit: intA }).map((s): Stage => ({
      op: 'slice',
      skip: s.skip === undefined ? undefined : { kind: 'literal', value: String(s.skip) },
      limit: s.limit === undefined ? undefined : { kind: 'literal', value: String(s.limit) },
    })),
    fc.array(fc.nat(WIDTH - 1), { minLength: WIDTH, maxLength: WIDTH }).map((cols): Stage => ({ op: 'project', cols })),
  ),
  { maxLength: 3 },
);

describe('merging as rows arrive', () => {
  it('answers what the buffered pipeline answers, in the same order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(rowA, { maxLength: 8 }), { minLength: 1, maxLength: 4 }), sortKeysA, tailA, async (shards, order, tail) => {
        // each shard sends its rows sorted by the merge order, as the planner makes it
        const cmp = rowComparator(order);
        const sorted = shards.map((rows) => [...rows].sort(cmp));
        const stages: Stage[] = [{ op: 'merge', order }, ...tail];
        expect(streamable(stages)).toBe(true);
        const pulled = { n: 0 };
        const streamed = await drain(
          mergeStream(
            stages,
            sorted.map((rows) => source(rows, pulled)),
            {},
          ),
        );
        expect(streamed).toEqual(runPipeline(stages, sorted, {}));
        // at most every row plus one end per shard was pulled
        expect(pulled.n).toBeLessThanOrEqual(sorted.flat().length + sorted.length);
      }),
      { numRuns: 300 },
    );
  });

  it('stops pulling once a LIMIT is reached', async () => {
    const int = (n: number): TypedValue => ({ $type: 'Integer', _value: String(n) });
    const shard = (from: number) => Array.from({ length: 1000 }, (_, i) => [int(from + i * 2)]);
    const pulled = { n: 0 };
    const stages: Stage[] = [
      { op: 'merge', order: [{ col: 0, desc: false }] },
      { op: 'slice', skip: { kind: 'literal', value: '3' }, limit: { kind: 'literal', value: '4' } },
    ];
    const rows = await drain(mergeStream(stages, [source(shard(0), pulled), source(shard(1), pulled)], {}));
    expect(rows.map((r) => r[0]!._value)).toEqual(['3', '4', '5', '6']);
    // 7 rows out of the merge, plus the next head of each shard
    expect(pulled.n).toBeLessThanOrEqual(9);
  });

  it('only merges, SKIP/LIMIT and projections stream', () => {
    expect(
      streamable([
        { op: 'merge', order: [] },
        { op: 'project', cols: [0] },
      ]),
    ).toBe(true);
    expect(streamable([{ op: 'merge', order: [] }, { op: 'distinct' }])).toBe(false);
    expect(
      streamable([
        { op: 'merge', order: [] },
        { op: 'sort', order: [{ col: 0, desc: false }] },
      ]),
    ).toBe(false);
    expect(
      streamable([
        { op: 'merge', order: [] },
        { op: 'aggregate', keys: [], aggregates: [] },
      ]),
    ).toBe(false);
    expect(streamable([{ op: 'project', cols: [0] }])).toBe(false);
  });

  it('refuses to order nodes across shards, as the buffered pipeline does', async () => {
    const node: TypedValue = { $type: 'Node', _value: { _element_id: '4:x:1', _labels: [], _properties: {} } } as unknown as TypedValue;
    const pulled = { n: 0 };
    const rows = mergeStream([{ op: 'merge', order: [{ col: 0, desc: false }] }], [source([[node]], pulled), source([[node]], pulled)], {});
    await expect(drain(rows)).rejects.toMatchObject({ code: 'Neo.ClientError.Gateway.FederationNotSupported' });
  });
});
