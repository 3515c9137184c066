/**
 * Runs a statement on a composite (DESIGN §5): plans it once per statement text (planner.ts,
 * kept with the statement's analysis), lets Neo4j validate a fan-out once (its own errors, on the
 * user's text, and the statement's column names), runs every selected shard's part in parallel
 * through the same routed executor single-shard requests use (fanout.ts), and merges
 * (pipeline.ts). A statement the planner cannot prove mergeable is refused, unless only one shard
 * is selected: then it runs there as written.
 */
import type { Topology } from '../config/schema.js';
import type { Analysis, StatementAnalyzer } from '../cypher/analyzer.js';
import { Codes, GatewayError } from '../errors/index.js';
import type { ShardExecutor } from '../routing/executor.js';
import { shardsForKey } from '../topology/shard-key.js';
import type { TypedValue } from '../values/typed.js';
import { rowKey } from '../values/equivalence.js';
import { assemble, ShardFanout, type FederatedRequest, type FederatedResult, type Produced } from './fanout.js';
import type { Plan, ShardStatement } from './plan.js';
import { CompositePlanner, type PlanOutcome } from './planner.js';
import { RESERVED } from './plan.js';
import { runPipeline, type Row } from './pipeline.js';
import { ShardSlots } from './shard-slots.js';
import { streamable } from './stream-merge.js';
import { FederatedStream } from './streamed.js';

export type { FederatedRequest, FederatedResult, MissingShard } from './fanout.js';
export type { FederatedStream, StreamEnd } from './streamed.js';

interface Validated {
  ok: boolean;
  fields: string[];
  error?: { code: string; message: string };
}

export class FederatedExecutor {
  private readonly fanout: ShardFanout;

  constructor(
    private readonly topology: Topology,
    private readonly shards: ShardExecutor,
    private readonly analyzer: StatementAnalyzer,
  ) {
    this.fanout = new ShardFanout(topology, shards);
  }

  /** the plan of a statement on a composite: kept with the statement's analysis */
  private async outcome(analysis: Analysis & { ok: true }, composite: string): Promise<PlanOutcome> {
    const key = `plan:${composite}`;
    const cached = analysis.attachments[key]?.value as PlanOutcome | undefined;
    if (cached) return cached;
    const parsed = await this.analyzer.parseTree(analysis.text);
    if (!parsed) throw new GatewayError(Codes.Internal, 'A statement that parsed before did not parse again.');
    const outcome = new CompositePlanner(parsed.tree, analysis.info, {
      name: composite,
      shards: this.topology.composites[composite]!.shards,
      maxUnionParts: this.topology.limits.maxUnionParts,
    }).plan(parsed.statement);
    this.analyzer.attach(analysis, key, outcome, JSON.stringify(outcome).length * 2);
    return outcome;
  }

  /**
   * What a request runs: its plan (with the shards it selects and the column names Neo4j gave
   * when it validated the statement), or, for EXPLAIN, the answer itself.
   */
  private async prepare(
    req: FederatedRequest,
  ): Promise<{ explained: FederatedResult } | { plan: Plan; columns: string[] | undefined; selected: string[]; writes: boolean }> {
    const composite = this.topology.composites[req.composite];
    if (!composite) throw new GatewayError(Codes.DatabaseNotFound, `Database does not exist. Database name: '${req.composite}'.`);
    for (const name of Object.keys(req.parameters)) {
      if (name.startsWith(RESERVED)) throw new GatewayError(Codes.RequestInvalid, `Parameter names beginning with ${RESERVED} are reserved by the gateway.`);
    }
    const analysis = await this.analyzer.analyze(req.statement);
    if (!analysis.ok) throw new GatewayError(Codes.Internal, 'The statement gate lets only analysed statements through.');
    const selected = req.shardKey !== undefined ? shardsForKey(req.composite, composite, req.shardKey) : [...composite.shards];
    const outcome = await this.outcome(analysis, req.composite);
    const info = analysis.info;

    if (!outcome.ok || (selected.length === 1 && outcome.planned.passthrough && outcome.planned.plan.kind !== 'single')) {
      const passthrough = outcome.ok ? outcome.planned.passthrough : outcome.passthrough;
      if (selected.length !== 1 || !passthrough) {
        const refused = outcome as PlanOutcome & { ok: false };
        // a statement Neo4j itself refuses gets Neo4j's own error (EXPLAIN runs nothing)
        if (refused.validation && refused.refusal.code === Codes.FederationNotSupported) await this.validate(analysis, refused.validation, req, selected[0]!);
        throw new GatewayError(refused.refusal.code, refused.refusal.message);
      }
      // one shard selected: it answers as written
      return {
        plan: { kind: 'single', graph: { kind: 'name', parts: [req.composite, selected[0]!] }, statement: passthrough },
        columns: undefined,
        selected,
        writes: info.writes,
      };
    }
    const plan = outcome.planned.plan;
    let columns = outcome.planned.columns;
    const validation = outcome.planned.validation;
    if (validation) {
      if (info.profile)
        throw new GatewayError(
          Codes.FederationNotSupported,
          'PROFILE of a statement that runs on several shards is not supported: PROFILE it on one shard with USE.',
        );
      const v = await this.validate(analysis, validation, req, selected[0]!);
      if (columns !== undefined && columns.length !== v.fields.length) {
        throw new GatewayError(
          Codes.FederationNotSupported,
          'The gateway could not plan this statement exactly for a composite; run it on one shard with USE.',
        );
      }
      columns = v.fields;
      if (info.explain) {
        return {
          explained: {
            result: { fields: v.fields, values: [], bookmarks: [], counters: {}, notifications: [] },
            routes: [],
            shardBookmarks: {},
            missing: [],
            width: 0,
          },
        };
      }
    }
    return { plan, columns, selected, writes: outcome.planned.writes };
  }

  async run(req: FederatedRequest): Promise<FederatedResult> {
    return this.runPrepared(await this.prepare(req), req);
  }

  private async runPrepared(prepared: Awaited<ReturnType<FederatedExecutor['prepare']>>, req: FederatedRequest): Promise<FederatedResult> {
    if ('explained' in prepared) return prepared.explained;
    const slots = new ShardSlots(this.topology.limits.maxShardStatementsPerRequest);
    return assemble(await this.produce(prepared.plan, req, prepared.selected, prepared.columns, slots));
  }

  /**
   * The answer, as a stream of rows when the plan allows it and the transport can (a statement
   * that writes nothing, whatever the request's access mode, whose every selected shard runs one
   * statement and whose merge needs no shard's whole answer: concatenation or k-way merge, then
   * SKIP/LIMIT and projections; stream-merge.ts), otherwise whole, as `run` answers. The
   * statement is analysed and planned once either way. A stream is returned once every shard has
   * accepted its statement (or failed, see `runAll`).
   */
  async answer(req: FederatedRequest): Promise<{ stream: FederatedStream } | { result: FederatedResult }> {
    const prepared = await this.prepare(req);
    if (this.shards.canStream && !('explained' in prepared)) {
      const { plan, columns, selected, writes } = prepared;
      if (!writes && plan.kind === 'fanout' && streamable(plan.pipeline)) {
        const { opened, missing } = await this.fanout.openAll(selected, plan.statement, req);
        const fields = columns ?? opened[0]?.open.stream.fields ?? [];
        return { stream: new FederatedStream(fields, opened, missing, plan.pipeline, req.parameters) };
      }
    }
    return { result: await this.runPrepared(prepared, req) };
  }

  /**
   * A nested GraphQL field for every parent of a level (graphql/fields.ts): each shard runs the
   * field's statement once per parent (rows start with the parent's index), and the plan's merge
   * runs per parent. Returns rows [parent index, value].
   */
  async runBatched(
    req: FederatedRequest,
    plan: Plan & { kind: 'single' | 'once' | 'fanout' },
    columns: string[] | undefined,
    parents: number,
  ): Promise<FederatedResult> {
    const composite = this.topology.composites[req.composite];
    if (!composite) throw new GatewayError(Codes.DatabaseNotFound, `Database does not exist. Database name: '${req.composite}'.`);
    if (plan.kind !== 'fanout') return assemble(await this.produce(plan, req, composite.shards, undefined));
    const { runs, missing } = await this.fanout.runAll(composite.shards, plan.statement, req);
    const failed = runs.find((r) => r.res.result.error);
    const fields = ['__n4gw_i', ...(columns ?? ['value'])];
    if (failed) return assemble({ fields, rows: [], runs, missing, error: failed.res.result.error });
    // each shard's rows, per parent
    const perShard = runs.map((r) => {
      const groups: Row[][] = Array.from({ length: parents }, () => []);
      for (const row of r.res.result.values) groups[Number(row[0]!._value)]?.push(row.slice(1));
      return groups;
    });
    const rows: Row[] = [];
    for (let i = 0; i < parents; i++) {
      const index: TypedValue = { $type: 'Integer', _value: String(i) };
      for (const out of runPipeline(
        plan.pipeline,
        perShard.map((g) => g[i]!),
        req.parameters,
      ))
        rows.push([index, ...out]);
    }
    return assemble({ fields, rows, runs, missing, error: undefined });
  }

  /** Neo4j EXPLAINs the user's statement once (on one shard): its errors on the user's text, and the column names */
  private async validate(analysis: Analysis & { ok: true }, validation: ShardStatement, req: FederatedRequest, shard: string): Promise<Validated> {
    const key = `validated:${req.composite}`;
    let v = analysis.attachments[key]?.value as Validated | undefined;
    if (!v) {
      const { result } = await this.fanout.runOn(shard, validation, req, 'READ');
      v = result.error ? { ok: false, fields: [], error: result.error } : { ok: true, fields: result.fields };
      this.analyzer.attach(analysis, key, v, JSON.stringify(v).length * 2);
    }
    if (!v.ok) throw new GatewayError(v.error!.code, v.error!.message);
    return v;
  }

  private async produce(plan: Plan, req: FederatedRequest, selected: readonly string[], columns: string[] | undefined, slots?: ShardSlots): Promise<Produced> {
    switch (plan.kind) {
      case 'single': {
        const shard = this.fanout.graphShard(plan.graph, req);
        const res = await this.fanout.runOn(shard, plan.statement, req, req.accessMode, slots);
        return { fields: res.result.fields, rows: res.result.values, runs: [{ shard, res }], missing: [], error: res.result.error };
      }
      case 'once': {
        const { runs, missing } = await this.fanout.runAll(selected.slice(0, 1), plan.statement, req, slots);
        const r = runs[0];
        return { fields: r?.res.result.fields ?? [], rows: r?.res.result.values ?? [], runs, missing, error: r?.res.result.error };
      }
      case 'fanout': {
        const { runs, missing } = await this.fanout.runAll(selected, plan.statement, req, slots);
        const failed = runs.find((r) => r.res.result.error);
        const fields = columns ?? runs[0]?.res.result.fields ?? [];
        if (failed) return { fields, rows: [], runs, missing, error: failed.res.result.error };
        const rows = runPipeline(
          plan.pipeline,
          runs.map((r) => r.res.result.values),
          req.parameters,
        );
        return { fields, rows, runs, missing, error: undefined };
      }
      case 'union': {
        const parts = await Promise.all(plan.parts.map((p) => this.produce(p, req, selected, undefined, slots)));
        const fields = columns ?? parts[0]?.fields ?? [];
        const rows: Row[] = [];
        for (const part of parts) {
          // UNION pairs columns by name (Cypher requires the same names in every part)
          const index = fields.map((f) => part.fields.indexOf(f));
          const reorder = index.some((x, i) => x !== i);
          if (index.some((x) => x < 0) && part.rows.length > 0) throw new GatewayError(Codes.Internal, 'UNION parts returned different columns.');
          for (const r of part.rows) rows.push(reorder ? index.map((x) => r[x]!) : r);
        }
        let out = rows;
        if (plan.distinct) {
          const seen = new Set<string>();
          out = rows.filter((r) => {
            const k = rowKey(r);
            if (seen.has(k)) return false;
            seen.add(k);
            return true;
          });
        }
        return { fields, rows: out, runs: parts.flatMap((p) => p.runs), missing: parts.flatMap((p) => p.missing), error: parts.find((p) => p.error)?.error };
      }
    }
  }
}
