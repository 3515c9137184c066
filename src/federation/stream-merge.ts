/**
 * The merge pipeline as rows arrive (pure, no I/O of its own): a plan whose pipeline is a merge
 * (concatenation, or a k-way merge by the order each shard sorted its rows by) followed only by
 * SKIP/LIMIT and projections needs no shard's whole answer, so its rows can go to the client as
 * the shards send them, holding one row per shard. It answers exactly what runPipeline answers
 * over the same rows (same order, same ties: an earlier shard wins), which the unit tests check.
 */
import type { TypedValue } from '../values/typed.js';
import type { Stage } from './plan.js';
import { resolveInt, rowComparator, type Row } from './pipeline.js';

/** a shard's rows, pulled one at a time; undefined at the end */
export interface RowSource {
  next(): Promise<Row | undefined>;
}

/** true when `stages` can run as rows arrive: a merge, then only SKIP/LIMIT and projections */
export function streamable(stages: readonly Stage[]): boolean {
  return stages[0]?.op === 'merge' && stages.slice(1).every((s) => s.op === 'slice' || s.op === 'project');
}

async function* concatenate(sources: readonly RowSource[]): AsyncGenerator<Row> {
  for (const s of sources) {
    for (let row = await s.next(); row !== undefined; row = await s.next()) yield row;
  }
}

/** k-way merge of sources each sorted by `cmp`: one row held per source; a tie goes to the earlier source */
async function* kWay(sources: readonly RowSource[], cmp: (a: Row, b: Row) => number): AsyncGenerator<Row> {
  const heads = await Promise.all(sources.map((s) => s.next()));
  for (;;) {
    let best = -1;
    for (let i = 0; i < heads.length; i++) {
      if (heads[i] === undefined) continue;
      if (best < 0 || cmp(heads[i]!, heads[best]!) < 0) best = i;
    }
    if (best < 0) return;
    yield heads[best]!;
    heads[best] = await sources[best]!.next();
  }
}

const MAX_INDEX = BigInt(Number.MAX_SAFE_INTEGER);

async function* slice(rows: AsyncGenerator<Row>, skip: bigint | undefined, limit: bigint | undefined): AsyncGenerator<Row> {
  let toSkip = skip ?? 0n;
  let left = limit;
  if (left === 0n) return;
  for await (const row of rows) {
    if (toSkip > 0n) {
      toSkip--;
      continue;
    }
    yield row;
    if (left !== undefined && --left === 0n) return;
  }
}

async function* project(rows: AsyncGenerator<Row>, cols: readonly number[]): AsyncGenerator<Row> {
  for await (const row of rows) yield cols.map((c) => row[c]!);
}

/**
 * The rows of a streamable pipeline (see `streamable`) over `sources`, in order. It stops pulling
 * as soon as a LIMIT is reached; the caller then cancels the sources. A row it cannot order the
 * way one database would (a node, relationship or path in an ORDER BY) throws, as runPipeline does.
 */
export function mergeStream(stages: readonly Stage[], sources: readonly RowSource[], params: Record<string, TypedValue>): AsyncGenerator<Row> {
  const [first, ...rest] = stages;
  if (first?.op !== 'merge' || !streamable(stages)) throw new Error('mergeStream needs a streamable pipeline (see streamable()).');
  let rows = first.order.length > 0 ? kWay(sources, rowComparator(first.order)) : concatenate(sources);
  for (const stage of rest) {
    if (stage.op === 'slice') {
      const skip = resolveInt(stage.skip, params, 'SKIP');
      const limit = resolveInt(stage.limit, params, 'LIMIT');
      rows = slice(rows, skip === undefined || skip <= MAX_INDEX ? skip : MAX_INDEX, limit);
    } else if (stage.op === 'project') {
      rows = project(rows, stage.cols);
    }
  }
  return rows;
}
