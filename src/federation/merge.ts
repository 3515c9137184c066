/**
 * Merging shard results the way one database holding every shard's data would answer (pure):
 * concatenation, DISTINCT / UNION de-duplication, ORDER BY (k-way merge of sorted shard
 * results) with SKIP / LIMIT, and aggregates decomposed per shard and combined here.
 */
import type { TypedValue } from '../transport/types.js';
import { NULL, addValues, averageOf, compareValues, maxValue, minValue, rowKey } from './values.js';

export type AggregateFn = 'count' | 'sum' | 'min' | 'max' | 'avg' | 'collect';

/** how one output column is computed from the shard columns */
export type OutputColumn = { kind: 'value'; src: number } | { kind: 'aggregate'; fn: AggregateFn; src: number; src2?: number };

export interface MergeSpec {
  /** output column names */
  columns: string[];
  /** RETURN *: the columns (and their order) are those the shards return; rows pass through as they are */
  columnsFromShards?: boolean;
  outputs: OutputColumn[];
  /** true when the part aggregates (rows are grouped by its value columns) */
  aggregating: boolean;
  distinct: boolean;
  /** sort keys over output columns */
  order: { index: number; desc: boolean }[];
  /** shards return rows already sorted by `order` (k-way merge instead of a full sort) */
  shardsSorted: boolean;
  skip: number;
  limit: number | undefined;
  /** outputs past this index are hidden sort keys (ORDER BY on expressions not returned), dropped at the end */
  visible?: number;
}

export function compareRows(order: MergeSpec['order']) {
  return (a: TypedValue[], b: TypedValue[]): number => {
    for (const { index, desc } of order) {
      const c = compareValues(a[index]!, b[index]!);
      if (c !== 0) return desc ? -c : c;
    }
    return 0;
  };
}

/** k-way merge of runs each sorted by `cmp` (stable: earlier runs win ties) */
export function kWayMerge<T>(runs: T[][], cmp: (a: T, b: T) => number, take = Number.POSITIVE_INFINITY): T[] {
  const pos = runs.map(() => 0);
  const out: T[] = [];
  while (out.length < take) {
    let best = -1;
    for (let r = 0; r < runs.length; r++) {
      if (pos[r]! >= runs[r]!.length) continue;
      if (best < 0 || cmp(runs[r]![pos[r]!]!, runs[best]![pos[best]!]!) < 0) best = r;
    }
    if (best < 0) break;
    out.push(runs[best]![pos[best]!]!);
    pos[best]!++;
  }
  return out;
}

function dedupe(rows: TypedValue[][]): TypedValue[][] {
  const seen = new Set<string>();
  const out: TypedValue[][] = [];
  for (const r of rows) {
    const k = rowKey(r);
    if (!seen.has(k)) {
      seen.add(k);
      out.push(r);
    }
  }
  return out;
}

function combineAggregates(spec: MergeSpec, shardRows: TypedValue[][]): TypedValue[][] {
  const groups = new Map<string, TypedValue[][]>();
  const keyCols = spec.outputs.flatMap((o) => (o.kind === 'value' ? [o.src] : []));
  for (const row of shardRows) {
    const k = rowKey(keyCols.map((i) => row[i]!));
    const g = groups.get(k);
    if (g) g.push(row);
    else groups.set(k, [row]);
  }
  const out: TypedValue[][] = [];
  for (const rows of groups.values()) {
    out.push(
      spec.outputs.map((o) => {
        if (o.kind === 'value') return rows[0]![o.src]!;
        switch (o.fn) {
          case 'count':
          case 'sum':
            return rows.reduce<TypedValue>((acc, r) => addValues(acc, r[o.src]!), o.fn === 'count' ? { $type: 'Integer', _value: '0' } : NULL);
          case 'min':
            return rows.reduce<TypedValue>((acc, r) => minValue(acc, r[o.src]!), NULL);
          case 'max':
            return rows.reduce<TypedValue>((acc, r) => maxValue(acc, r[o.src]!), NULL);
          case 'collect':
            return { $type: 'List', _value: rows.flatMap((r) => (r[o.src]!.$type === 'List' ? (r[o.src] as { _value: TypedValue[] })._value : [])) };
          case 'avg': {
            const sum = rows.reduce<TypedValue>((acc, r) => addValues(acc, r[o.src]!), NULL);
            const count = rows.reduce<TypedValue>((acc, r) => addValues(acc, r[o.src2!]!), { $type: 'Integer', _value: '0' });
            return averageOf(sum, count);
          }
        }
      }),
    );
  }
  // an aggregation with no grouping keys answers one row even over no data
  if (out.length === 0 && keyCols.length === 0) {
    out.push(spec.outputs.map((o) => (o.kind === 'aggregate' && o.fn === 'count' ? { $type: 'Integer', _value: '0' } : o.kind === 'aggregate' && o.fn === 'collect' ? { $type: 'List', _value: [] } : NULL)));
  }
  return out;
}

/** Merges one part's shard results (each shard's rows in shard-column layout). */
export function mergePart(spec: MergeSpec, perShard: TypedValue[][][]): TypedValue[][] {
  let rows: TypedValue[][];
  if (spec.aggregating) {
    rows = combineAggregates(spec, perShard.flat());
  } else {
    const project = (r: TypedValue[]) => spec.outputs.map((o) => r[(o as { src: number }).src]!);
    const runs = spec.columnsFromShards ? perShard : perShard.map((rs) => rs.map(project));
    if (spec.order.length > 0 && spec.shardsSorted && !spec.distinct) {
      const take = spec.limit === undefined ? Number.POSITIVE_INFINITY : spec.skip + spec.limit;
      rows = kWayMerge(runs, compareRows(spec.order), take);
    } else {
      rows = runs.flat();
    }
  }
  if (spec.distinct) rows = dedupe(rows);
  if (spec.order.length > 0 && (spec.aggregating || !spec.shardsSorted || spec.distinct)) {
    const cmp = compareRows(spec.order);
    rows = rows.map((r, i) => [r, i] as const).sort((a, b) => cmp(a[0], b[0]) || a[1] - b[1]).map(([r]) => r);
  }
  const end = spec.limit === undefined ? undefined : spec.skip + spec.limit;
  const page = spec.skip > 0 || end !== undefined ? rows.slice(spec.skip, end) : rows;
  return spec.visible !== undefined && spec.visible < spec.outputs.length ? page.map((r) => r.slice(0, spec.visible)) : page;
}

/** UNION (distinct) or UNION ALL of parts' merged rows */
export function unionParts(parts: TypedValue[][][], distinct: boolean): TypedValue[][] {
  const all = parts.flat();
  return distinct ? dedupe(all) : all;
}
