/**
 * A composite query plan as plain data: what each shard runs and how the gateway combines the
 * shards' rows. The planner (planner.ts) produces it, the executor (execute.ts) and the merge
 * pipeline (pipeline.ts) follow it; nothing here runs anything. Plans do not depend on parameter
 * values or on which shards a shard key selects: both are resolved when a plan runs, so one plan
 * per statement text serves every request.
 */
import type { TypedValue } from '../values/typed.js';
import type { AggregateName } from '../values/aggregate.js';

/** the prefix of every name the gateway adds to a statement; a user's statement may not use it */
export const RESERVED = '__n4gw_';
/** parameters the gateway adds to shard statements */
export const GRAPH_NAMES_PARAM = '__n4gw_graph_names';
export const GRAPH_NAME_PARAM = '__n4gw_graph';
export const ROW_LIMIT_PARAM = '__n4gw_limit';

/** a graph named by USE: a literal name (as written, parts unquoted) or a parameter of graph.byName($p) */
export type GraphRef = { kind: 'name'; parts: string[] } | { kind: 'param'; name: string };

/** a non-negative integer the plan reads at run time: a literal, a parameter, or nothing */
export type IntSource = { kind: 'literal'; value: string } | { kind: 'param'; name: string };

/** a constant argument (percentile fraction): a literal value or a parameter */
export type ValueSource = { kind: 'literal'; value: TypedValue } | { kind: 'param'; name: string };

/** parameters the gateway adds to a shard statement */
export type ExtraParam =
  /** graph.names(): the composite's graph names */
  | { name: string; kind: 'graphNames' }
  /** the graph.names() idiom: this shard's graph name */
  | { name: string; kind: 'graphName' }
  /** a LIMIT pushed down to the shards: skip + limit rows each */
  | { name: string; kind: 'rowLimit'; skip: IntSource | undefined; limit: IntSource };

export interface ShardStatement {
  text: string;
  extra: ExtraParam[];
}

export interface SortKey {
  col: number;
  desc: boolean;
}

/** how one output column of an aggregation is computed from the shards' columns */
export type AggregatePlan =
  /** each shard computed count/sum/min/max of its rows: combine the partial results */
  | { mode: 'partial'; fn: 'count' | 'sum' | 'min' | 'max'; col: number }
  /** each shard computed avg, sum and count: combine (one contributing shard: its own avg) */
  | { mode: 'partial-avg'; avg: number; sum: number; count: number }
  /** each shard collected its values: concatenate the lists */
  | { mode: 'partial-collect'; col: number }
  /** each shard sent the list of its values (collect(x) or collect(DISTINCT x)): aggregate their concatenation here */
  | { mode: 'values'; fn: AggregateName; distinct: boolean; col: number; percentile?: ValueSource }
  /** rows arrive one value per row (after an earlier merge): aggregate them here; col undefined: count(*) */
  | { mode: 'raw'; fn: AggregateName; distinct: boolean; col: number | undefined; percentile?: ValueSource };

/** one step of the gateway's merge pipeline, over rows of the columns of the step before */
export type Stage =
  /** the shards' rows: concatenated, or k-way merged by `order` (each shard sorted its rows by it) */
  | { op: 'merge'; order: SortKey[] }
  /** group by `keys` and compute `aggregates`; output row: keys' values then aggregates, in that order */
  | { op: 'aggregate'; keys: number[]; aggregates: AggregatePlan[] }
  /** keep the first row of each set of equivalent rows over `cols` (all columns when absent) */
  | { op: 'distinct'; cols?: number[] }
  /** stable sort */
  | { op: 'sort'; order: SortKey[] }
  | { op: 'slice'; skip: IntSource | undefined; limit: IntSource | undefined }
  /** keep these columns, in this order */
  | { op: 'project'; cols: number[] };

export type Plan =
  /** one shard answers; its answer passes through (a USE naming one shard) */
  | { kind: 'single'; graph: GraphRef; statement: ShardStatement }
  /** the statement reads no graph data: any one selected shard answers, once */
  | { kind: 'once'; statement: ShardStatement }
  /** every selected shard runs `statement`; the pipeline merges their rows */
  | { kind: 'fanout'; statement: ShardStatement; pipeline: Stage[]; idiom: boolean; shardColumns: string[] }
  /** UNION [ALL] of parts; `columns` in the order of the first part, each part's reordered to it */
  | { kind: 'union'; parts: Plan[]; distinct: boolean };

/** the planner's refusal: a clear reason, naming the clause, with a suggestion */
export interface Refusal {
  code: string;
  message: string;
}
