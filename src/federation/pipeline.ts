/**
 * The gateway's merge pipeline (pure): runs a plan's stages over the shards' rows, with Neo4j's
 * own value semantics (src/values: ORDER BY order, DISTINCT equivalence, aggregates). Each stage
 * is one primitive: k-way merge or concatenation, aggregation, de-duplication, stable sort,
 * SKIP/LIMIT, projection. It never guesses: a value it cannot order the way a single database
 * would (a node or relationship, ordered by Neo4j's internal ids) is refused.
 */
import { Codes, GatewayError } from '../errors/index.js';
import type { TypedValue } from '../values/typed.js';
import { aggregator, type Aggregator } from '../values/aggregate.js';
import { combineAvg, combineCount, combineMax, combineMin, combineSum } from '../values/aggregate-combiners.js';
import { rowKey } from '../values/equivalence.js';
import { compareOrderBy } from '../values/order.js';
import type { AggregatePlan, IntSource, SortKey, Stage, ValueSource } from './plan.js';

export type Row = TypedValue[];

const ENTITY_TYPES: ReadonlySet<string> = new Set(['Node', 'Relationship', 'Path']);
const NON_NULL: TypedValue = { $type: 'Boolean', _value: true };

function containsEntity(v: TypedValue): boolean {
  if (ENTITY_TYPES.has(v.$type)) return true;
  if (v.$type === 'List') return v._value.some(containsEntity);
  if (v.$type === 'Map') return Object.values(v._value).some(containsEntity);
  return false;
}

function orderRefusal(): GatewayError {
  return new GatewayError(
    Codes.FederationNotSupported,
    'ORDER BY (or min/max) over nodes, relationships or paths cannot be reproduced across shards: Neo4j orders them by internal ids that differ between databases. Order by a property instead.',
  );
}

export function rowComparator(order: readonly SortKey[]): (a: Row, b: Row) => number {
  return (a, b) => {
    for (const { col, desc } of order) {
      const x = a[col]!;
      const y = b[col]!;
      if (containsEntity(x) || containsEntity(y)) throw orderRefusal();
      const c = compareOrderBy(x, y);
      if (c !== 0) return desc ? -c : c;
    }
    return 0;
  };
}

/** k-way merge of runs each sorted by `cmp` (stable: an earlier run wins a tie) */
export function kWayMerge<T>(runs: readonly T[][], cmp: (a: T, b: T) => number, take = Number.POSITIVE_INFINITY): T[] {
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

function intParameter(params: Record<string, TypedValue>, name: string, clause: 'SKIP' | 'LIMIT'): bigint {
  const v = params[name];
  if (v === undefined) throw new GatewayError(Codes.ParameterMissing, `Expected parameter(s): ${name}`);
  if (v.$type === 'Integer') {
    const n = BigInt(v._value);
    if (n < 0n) throw new GatewayError(Codes.ArgumentError, `${clause}: Invalid input. '${v._value}' is not a valid value. Must be a non-negative integer.`);
    return n;
  }
  if (v.$type === 'Float') {
    throw new GatewayError(Codes.ArgumentError, `${clause}: Invalid input. '${v._value}' is not a valid value. Must be a non-negative integer.`);
  }
  throw new GatewayError(Codes.SyntaxError, `Type mismatch for parameter '${name}': expected Integer but was ${v.$type}`);
}

/** the value of a SKIP/LIMIT source (literal or parameter), as an exact integer */
export function resolveInt(src: IntSource | undefined, params: Record<string, TypedValue>, clause: 'SKIP' | 'LIMIT'): bigint | undefined {
  if (!src) return undefined;
  return src.kind === 'literal' ? BigInt(src.value) : intParameter(params, src.name, clause);
}

export function resolveValue(src: ValueSource | undefined, params: Record<string, TypedValue>): TypedValue | undefined {
  if (!src) return undefined;
  if (src.kind === 'literal') return src.value;
  const v = params[src.name];
  if (v === undefined) throw new GatewayError(Codes.ParameterMissing, `Expected parameter(s): ${src.name}`);
  return v;
}

const MAX_INDEX = BigInt(Number.MAX_SAFE_INTEGER);

function slice(rows: Row[], skip: bigint | undefined, limit: bigint | undefined): Row[] {
  const s = Number(skip === undefined ? 0n : skip > MAX_INDEX ? MAX_INDEX : skip);
  if (limit === undefined) return s === 0 ? rows : rows.slice(s);
  const end = skip === undefined ? limit : skip + limit;
  return rows.slice(s, Number(end > MAX_INDEX ? MAX_INDEX : end));
}

function distinctRows(rows: Row[], cols: readonly number[] | undefined): Row[] {
  const seen = new Set<string>();
  const out: Row[] = [];
  for (const r of rows) {
    const k = rowKey(cols ? cols.map((c) => r[c]!) : r);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(r);
  }
  return out;
}

/** one output column of an aggregation, fed the rows of one group */
interface Accumulator {
  add(row: Row): void;
  result(): TypedValue;
}

function listItems(v: TypedValue): TypedValue[] {
  return v.$type === 'List' ? v._value : [];
}

function accumulator(plan: AggregatePlan, params: Record<string, TypedValue>): Accumulator {
  switch (plan.mode) {
    case 'partial': {
      const parts: TypedValue[] = [];
      const combine = { count: combineCount, sum: combineSum, min: combineMin, max: combineMax }[plan.fn];
      return {
        add: (row) => {
          const v = row[plan.col]!;
          if ((plan.fn === 'min' || plan.fn === 'max') && containsEntity(v)) throw orderRefusal();
          parts.push(v);
        },
        result: () => combine(parts),
      };
    }
    case 'partial-avg': {
      const parts: { avg: TypedValue; sum: TypedValue; count: TypedValue }[] = [];
      return { add: (row) => void parts.push({ avg: row[plan.avg]!, sum: row[plan.sum]!, count: row[plan.count]! }), result: () => combineAvg(parts) };
    }
    case 'partial-collect': {
      const items: TypedValue[] = [];
      return { add: (row) => void items.push(...listItems(row[plan.col]!)), result: () => ({ $type: 'List', _value: items }) };
    }
    case 'values':
    case 'raw': {
      const percentile = resolveValue(plan.percentile, params);
      const agg: Aggregator = aggregator(plan.fn, { distinct: plan.distinct, ...(percentile !== undefined ? { percentile } : {}) });
      const guard = (v: TypedValue) => {
        if ((plan.fn === 'min' || plan.fn === 'max') && containsEntity(v)) throw orderRefusal();
        agg.add(v);
      };
      if (plan.mode === 'values') return { add: (row) => listItems(row[plan.col]!).forEach(guard), result: () => agg.result() };
      const col = plan.col;
      return { add: (row) => guard(col === undefined ? NON_NULL : row[col]!), result: () => agg.result() };
    }
  }
}

function aggregate(rows: Row[], keys: readonly number[], plans: readonly AggregatePlan[], params: Record<string, TypedValue>): Row[] {
  const groups = new Map<string, { key: Row; accs: Accumulator[] }>();
  for (const row of rows) {
    const key = keys.map((k) => row[k]!);
    const id = rowKey(key);
    let g = groups.get(id);
    if (!g) {
      g = { key, accs: plans.map((p) => accumulator(p, params)) };
      groups.set(id, g);
    }
    for (const a of g.accs) a.add(row);
  }
  // an aggregation without grouping keys answers one row, even over no rows
  if (groups.size === 0 && keys.length === 0) groups.set('', { key: [], accs: plans.map((p) => accumulator(p, params)) });
  return [...groups.values()].map((g) => [...g.key, ...g.accs.map((a) => a.result())]);
}

/** runs the pipeline over each shard's rows (in the order the shards are listed) */
export function runPipeline(stages: readonly Stage[], perShard: readonly Row[][], params: Record<string, TypedValue>): Row[] {
  let rows: Row[] = [];
  let merged = false;
  for (const stage of stages) {
    switch (stage.op) {
      case 'merge':
        rows = stage.order.length > 0 ? kWayMerge(perShard, rowComparator(stage.order)) : perShard.flat();
        merged = true;
        break;
      case 'aggregate':
        rows = aggregate(rows, stage.keys, stage.aggregates, params);
        break;
      case 'distinct':
        rows = distinctRows(rows, stage.cols);
        break;
      case 'sort': {
        const cmp = rowComparator(stage.order);
        rows = rows
          .map((r, i) => [r, i] as const)
          .sort((a, b) => cmp(a[0], b[0]) || a[1] - b[1])
          .map(([r]) => r);
        break;
      }
      case 'slice':
        rows = slice(rows, resolveInt(stage.skip, params, 'SKIP'), resolveInt(stage.limit, params, 'LIMIT'));
        break;
      case 'project':
        rows = rows.map((r) => stage.cols.map((c) => r[c]!));
        break;
    }
  }
  if (!merged) throw new GatewayError(Codes.Internal, 'A merge pipeline must start with a merge stage.');
  return rows;
}
