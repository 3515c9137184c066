/**
 * Running one shard statement on a composite's shards: a graph reference resolved to its shard,
 * the gateway's own parameters added for each shard, the shards run in parallel through the routed
 * executor, failed shards collected (x-gateway-partial: allow, reads only, unavailable shards only)
 * or failing the request, and the shards' answers assembled into one (bookmarks per shard, counters
 * summed, notifications, routes).
 */
import type { Topology } from '../config/schema.js';
import { Codes, GatewayError } from '../errors/index.js';
import { bookmarksFor, type ShardBookmarks } from '../routing/bookmarks.js';
import type { ShardExecutor, ShardResult, ShardStream } from '../routing/executor.js';
import type { Route } from '../routing/types.js';
import type { AccessMode, Counters, Notification, RunResult } from '../transport/types.js';
import type { TypedValue } from '../values/typed.js';
import type { ExtraParam, GraphRef, ShardStatement } from './plan.js';
import { resolveInt, type Row } from './pipeline.js';
import type { ShardSlots } from './shard-slots.js';

export interface FederatedRequest {
  composite: string;
  statement: string;
  parameters: Record<string, TypedValue>;
  accessMode: AccessMode;
  bookmarks: { shards: ShardBookmarks; raw: string[] };
  region: string;
  pinned: boolean;
  shardKey?: string;
  /** x-gateway-partial: allow — healthy shards' rows plus the names of the failed ones */
  allowPartial: boolean;
  deadline: number;
  /** each shard's own deadline (epoch ms); default: `deadline` */
  shardDeadline?: number;
  maxRows: number;
  maxResultBytes?: number;
  timeoutMs?: number;
  impersonatedUser?: string;
  /** transaction metadata for Neo4j (request id, trace, key) */
  metadata?: Record<string, string>;
}

export interface MissingShard {
  shard: string;
  code: string;
  message: string;
}

export interface FederatedResult {
  result: RunResult;
  routes: Route[];
  /** new Neo4j bookmarks per shard touched */
  shardBookmarks: ShardBookmarks;
  missing: MissingShard[];
  width: number;
}

/** what one plan node produced */
export interface Produced {
  fields: string[];
  rows: Row[];
  runs: { shard: string; res: ShardResult }[];
  missing: MissingShard[];
  error: RunResult['error'];
}

const LONG_MAX = 9223372036854775807n;

export function sumCounters(all: Counters[]): Counters {
  const out: Counters = {};
  for (const c of all) {
    for (const [k, v] of Object.entries(c)) {
      const prev = out[k];
      if (typeof v === 'boolean') out[k] = prev === true || v;
      else out[k] = (typeof prev === 'number' ? prev : 0) + v;
    }
  }
  return out;
}

export class ShardFanout {
  constructor(
    private readonly topology: Topology,
    private readonly shards: ShardExecutor,
  ) {}

  /** the shard a graph reference names (`<composite>.<shard>`, written or in a parameter) */
  graphShard(ref: GraphRef, req: FederatedRequest): string {
    const composite = this.topology.composites[req.composite]!;
    let name: string;
    if (ref.kind === 'param') {
      const v = req.parameters[ref.name];
      if (v === undefined) throw new GatewayError(Codes.ParameterMissing, `Expected parameter(s): ${ref.name}`);
      if (v.$type !== 'String') throw new GatewayError(Codes.TypeError, `graph.byName() expects a String, got ${v.$type}.`);
      name = v._value;
    } else {
      name = ref.parts.join('.');
    }
    const prefix = `${req.composite}.`;
    const local = name.startsWith(prefix) ? name.slice(prefix.length) : undefined;
    if (local !== undefined && composite.shards.includes(local)) return local;
    throw new GatewayError(
      Codes.DatabaseNotFound,
      `Graph not found: ${name}. The graphs of composite '${req.composite}' are: ${composite.shards.map((s) => `${req.composite}.${s}`).join(', ')}.`,
    );
  }

  private extraParams(extra: readonly ExtraParam[], req: FederatedRequest, shard: string): Record<string, TypedValue> {
    const out: Record<string, TypedValue> = {};
    const composite = this.topology.composites[req.composite]!;
    for (const p of extra) {
      switch (p.kind) {
        case 'graphNames':
          out[p.name] = { $type: 'List', _value: composite.shards.map((s) => ({ $type: 'String', _value: `${req.composite}.${s}` })) };
          break;
        case 'graphName':
          out[p.name] = { $type: 'String', _value: `${req.composite}.${shard}` };
          break;
        case 'rowLimit': {
          const total = (resolveInt(p.skip, req.parameters, 'SKIP') ?? 0n) + resolveInt(p.limit, req.parameters, 'LIMIT')!;
          out[p.name] = { $type: 'Integer', _value: (total > LONG_MAX ? LONG_MAX : total).toString() };
          break;
        }
      }
    }
    return out;
  }

  /** runs a statement on one shard; with `slots`, once the request has a slot free on that shard */
  runOn(shard: string, statement: ShardStatement, req: FederatedRequest, mode: AccessMode, slots?: ShardSlots): Promise<ShardResult> {
    if (slots) return slots.run(shard, () => this.runOn(shard, statement, req, mode));
    return this.shards.run({
      ...this.shardRun(shard, statement, req, mode),
      maxRows: req.maxRows,
      ...(req.maxResultBytes !== undefined ? { maxResultBytes: req.maxResultBytes } : {}),
    });
  }

  /** what every shard statement of the request carries (a streamed one has no row or byte budget: the merged stream has) */
  private shardRun(shard: string, statement: ShardStatement, req: FederatedRequest, mode: AccessMode) {
    const extra = this.extraParams(statement.extra, req, shard);
    return {
      shard,
      statement: statement.text,
      parameters: Object.keys(extra).length > 0 ? { ...req.parameters, ...extra } : req.parameters,
      accessMode: mode,
      bookmarks: bookmarksFor(req.bookmarks, shard),
      region: req.region,
      pinned: req.pinned,
      deadline: Math.min(req.deadline, req.shardDeadline ?? req.deadline),
      ...(req.timeoutMs !== undefined ? { timeoutMs: req.timeoutMs } : {}),
      ...(req.impersonatedUser !== undefined ? { impersonatedUser: req.impersonatedUser } : {}),
      ...(req.metadata !== undefined ? { metadata: req.metadata } : {}),
    };
  }

  /**
   * Opens a statement on several shards in parallel as streams of rows; failed shards are
   * collected or fail the request as in `runAll` (the streams already open are then cancelled).
   */
  async openAll(
    shards: readonly string[],
    statement: ShardStatement,
    req: FederatedRequest,
  ): Promise<{ opened: { shard: string; open: ShardStream }[]; missing: MissingShard[] }> {
    const settled = await Promise.allSettled(shards.map((s) => this.shards.open(this.shardRun(s, statement, req, req.accessMode))));
    const opened = settled.flatMap((s, i) => (s.status === 'fulfilled' ? [{ shard: shards[i]!, open: s.value }] : []));
    try {
      return { opened, missing: this.missingOrThrow(settled, shards, req) };
    } catch (err) {
      await Promise.all(opened.map((o) => o.open.stream.cancel()));
      throw err;
    }
  }

  /** the shards that failed, when the request accepts partial results; otherwise the first failure is thrown */
  private missingOrThrow(settled: PromiseSettledResult<unknown>[], shards: readonly string[], req: FederatedRequest): MissingShard[] {
    const missing: MissingShard[] = [];
    let first: unknown;
    settled.forEach((s, i) => {
      if (s.status === 'rejected') {
        first ??= s.reason;
        const err = s.reason instanceof GatewayError ? s.reason : new GatewayError(Codes.Internal, 'A shard failed.', { cause: s.reason });
        missing.push({ shard: shards[i]!, code: err.code, message: err.message });
      }
    });
    // partial results are for reads only, and only for shards that are unavailable
    if (missing.length > 0 && (!req.allowPartial || req.accessMode === 'WRITE' || !missing.every((m) => m.code.startsWith('Neo.TransientError.')))) throw first;
    return missing;
  }

  /** runs a statement on several shards in parallel; failed shards are collected (partial results) or fail the request */
  async runAll(
    shards: readonly string[],
    statement: ShardStatement,
    req: FederatedRequest,
    slots?: ShardSlots,
  ): Promise<{ runs: { shard: string; res: ShardResult }[]; missing: MissingShard[] }> {
    const settled = await Promise.allSettled(shards.map((s) => this.runOn(s, statement, req, req.accessMode, slots)));
    const runs = settled.flatMap((s, i) => (s.status === 'fulfilled' ? [{ shard: shards[i]!, res: s.value }] : []));
    return { runs, missing: this.missingOrThrow(settled, shards, req) };
  }
}

export function assemble(p: Produced): FederatedResult {
  const shardBookmarks: ShardBookmarks = {};
  for (const x of p.runs) if (x.res.result.bookmarks.length > 0) shardBookmarks[x.shard] = [...(shardBookmarks[x.shard] ?? []), ...x.res.result.bookmarks];
  const counters = sumCounters(p.runs.map((x) => x.res.result.counters));
  const notifications: Notification[] = p.runs.flatMap((x) => x.res.result.notifications);
  const result: RunResult = { fields: p.fields, values: p.error ? [] : p.rows, bookmarks: [], counters, notifications, ...(p.error ? { error: p.error } : {}) };
  return { result, routes: p.runs.map((x) => x.res.route), shardBookmarks, missing: p.missing, width: p.runs.length + p.missing.length };
}
