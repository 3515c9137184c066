/**
 * Runs a statement on a composite: plan it, run every shard's part in parallel through the same
 * routed executor single-shard requests use, and merge (DESIGN §5).
 */
import type { Topology } from '../config/schema.js';
import { Codes, GatewayError } from '../errors/index.js';
import { bookmarksFor, type ShardBookmarks } from '../routing/bookmarks.js';
import type { ShardExecutor, ShardResult } from '../routing/executor.js';
import type { Route } from '../routing/service.js';
import { shardsForKey } from '../topology/shard-key.js';
import type { AccessMode, Counters, Notification, RunResult, TypedValue } from '../transport/types.js';
import { Analyzer, NeedsNeo4jCheck, RewriteTo, type Plan, type PlannedPart } from './analyze.js';
import type { Cypher } from './cypher.js';
import { mergePart, unionParts } from './merge.js';

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
  timeoutMs?: number;
  impersonatedUser?: string;
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

function sumCounters(all: Counters[]): Counters {
  const out: Counters = {};
  for (const c of all) {
    for (const [k, v] of Object.entries(c)) {
      const prev = out[k];
      if (typeof v === 'boolean') out[k] = (prev === true) || v;
      else out[k] = (typeof prev === 'number' ? prev : 0) + v;
    }
  }
  return out;
}

export interface CachedPlan {
  plan: Plan;
  /** the parameters the analysis read (SKIP/LIMIT/graph.byName), with the values it saw */
  used: [string, string][];
}

export class FederatedExecutor {
  constructor(
    private readonly topology: Topology,
    private readonly shards: ShardExecutor,
    private readonly cypher: Cypher,
    /** plans per (composite, selected shards, statement text); valid while the parameters they read are unchanged */
    private readonly plans: Map<string, CachedPlan> = new Map(),
    private readonly maxPlans = 500,
  ) {}

  private async plan(req: FederatedRequest, selected: string[]): Promise<Plan> {
    const key = `${req.composite}\u0000${selected.join(',')}\u0000${req.statement}`;
    const hit = this.plans.get(key);
    if (hit && hit.used.every(([k, v]) => JSON.stringify(req.parameters[k] ?? null) === v)) return hit.plan;
    const used = new Set<string>();
    const tracked = new Proxy(req.parameters, {
      get(target, k) {
        if (typeof k === 'string') used.add(k);
        return (target as Record<string | symbol, unknown>)[k];
      },
    });
    const plan = await this.analyse({ ...req, parameters: tracked }, selected);
    this.plans.delete(key);
    this.plans.set(key, { plan, used: [...used].map((k) => [k, JSON.stringify(req.parameters[k] ?? null)]) });
    if (this.plans.size > this.maxPlans) this.plans.delete(this.plans.keys().next().value as string);
    return plan;
  }

  private async analyse(req: FederatedRequest, selected: string[]): Promise<Plan> {
    const composite = this.topology.composites[req.composite]!;
    let statement = req.statement;
    let shards = selected;
    for (let round = 0; round < 2; round++) {
      const { trees, ruleNames } = await this.cypher.parse(statement);
      if (trees.length !== 1) {
        throw new GatewayError(Codes.RequestInvalid, 'Send one statement per request.', { status: 400 });
      }
      const analyzer = new Analyzer(statement, ruleNames, { name: req.composite, shards: composite.shards, selected: shards, parameters: req.parameters });
      try {
        return analyzer.plan(trees[0]!);
      } catch (err) {
        if (err instanceof RewriteTo && round === 0) {
          statement = err.statement;
          shards = err.shards;
          continue;
        }
        if (err === NeedsNeo4jCheck) return this.neo4jVerdict(req, selected[0]!);
        throw err;
      }
    }
    throw new GatewayError('Neo.ClientError.Gateway.FederationNotSupported', 'The statement could not be planned for a composite.', { status: 400 });
  }

  /** the grammar found an error: let Neo4j word it (EXPLAIN runs nothing) */
  private async neo4jVerdict(req: FederatedRequest, shard: string): Promise<never> {
    const res = await this.shards.run({
      shard,
      statement: `EXPLAIN ${req.statement}`,
      parameters: req.parameters,
      accessMode: 'READ',
      bookmarks: [],
      region: req.region,
      pinned: req.pinned,
      maxRows: 1,
      deadline: req.deadline,
    });
    if (res.result.error) throw new GatewayError(res.result.error.code, res.result.error.message);
    throw new GatewayError('Neo.ClientError.Gateway.FederationNotSupported', 'The gateway could not analyse this statement for a composite; run it on one shard with USE.', { status: 400 });
  }

  async run(req: FederatedRequest): Promise<FederatedResult> {
    const composite = this.topology.composites[req.composite];
    if (!composite) throw new GatewayError(Codes.DatabaseNotFound, `Database does not exist. Database name: '${req.composite}'.`);
    const selected = req.shardKey !== undefined ? shardsForKey(req.composite, composite, req.shardKey) : [...composite.shards];
    const plan = await this.plan(req, selected);

    const runs: { part: PlannedPart; shard: string; promise: Promise<ShardResult> }[] = [];
    for (const part of plan.parts) {
      for (const shard of part.shards) {
        runs.push({
          part,
          shard,
          promise: this.shards.run({
            shard,
            statement: part.statement,
            parameters: part.extraParameters ? { ...req.parameters, ...part.extraParameters } : req.parameters,
            accessMode: part.writes ? 'WRITE' : req.accessMode,
            bookmarks: bookmarksFor(req.bookmarks, shard),
            region: req.region,
            pinned: req.pinned,
            maxRows: req.maxRows,
            deadline: Math.min(req.deadline, req.shardDeadline ?? req.deadline),
            ...(req.timeoutMs !== undefined ? { timeoutMs: req.timeoutMs } : {}),
            ...(req.impersonatedUser !== undefined ? { impersonatedUser: req.impersonatedUser } : {}),
          }),
        });
      }
    }
    const settled = await Promise.allSettled(runs.map((r) => r.promise));
    const missing: MissingShard[] = [];
    const done = new Map<PlannedPart, { shard: string; res: ShardResult }[]>();
    settled.forEach((s, i) => {
      const { part, shard } = runs[i]!;
      if (s.status === 'fulfilled') {
        const list = done.get(part) ?? [];
        list.push({ shard, res: s.value });
        done.set(part, list);
        return;
      }
      const err = s.reason instanceof GatewayError ? s.reason : new GatewayError(Codes.Internal, 'A shard failed.', { cause: s.reason });
      missing.push({ shard, code: err.code, message: err.message });
    });
    if (missing.length > 0) {
      const first = settled.find((s) => s.status === 'rejected') as PromiseRejectedResult;
      // partial results are for reads only, and only for shards that are unavailable
      if (!req.allowPartial || plan.writes || !missing.every((m) => m.code.startsWith('Neo.TransientError.'))) throw first.reason;
    }
    // a runtime error on any shard fails the whole answer, as it would in one database
    for (const list of done.values()) {
      const failed = list.find((x) => x.res.result.error);
      if (failed) {
        return this.assemble(plan, done, missing, failed.res.result.error);
      }
    }
    return this.assemble(plan, done, missing, undefined);
  }

  private assemble(
    plan: Plan,
    done: Map<PlannedPart, { shard: string; res: ShardResult }[]>,
    missing: MissingShard[],
    error: RunResult['error'],
  ): FederatedResult {
    const all = [...done.values()].flat();
    const routes = all.map((x) => x.res.route);
    const shardBookmarks: ShardBookmarks = {};
    for (const x of all) if (x.res.result.bookmarks.length > 0) shardBookmarks[x.shard] = [...(shardBookmarks[x.shard] ?? []), ...x.res.result.bookmarks];
    const counters = sumCounters(all.map((x) => x.res.result.counters));
    const notifications: Notification[] = all.flatMap((x) => x.res.result.notifications);
    let fields: string[] = [];
    const partRows: TypedValue[][][] = [];
    plan.parts.forEach((part, i) => {
      const results = (done.get(part) ?? []).map((x) => x.res.result);
      let rows: TypedValue[][];
      let partFields: string[];
      if (!part.merge) {
        partFields = results[0]?.fields ?? [];
        rows = results.flatMap((r) => r.values);
      } else {
        partFields = part.merge.columnsFromShards ? (results[0]?.fields ?? []) : part.merge.columns;
        rows = mergePart(part.merge, results.map((r) => r.values));
      }
      if (i === 0) fields = partFields;
      partRows.push(rows);
    });
    const values = plan.union === undefined ? (partRows[0] ?? []) : unionParts(partRows, plan.union === 'distinct');
    const result: RunResult = { fields, values, bookmarks: [], counters, notifications, ...(error ? { error } : {}) };
    return { result, routes, shardBookmarks, missing, width: all.length + missing.length };
  }
}
