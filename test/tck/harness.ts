/**
 * The TCK differential harness: for each scenario, builds its graph on ONE shard of a
 * composite (the other empty) and on a ground-truth Neo4j instance, runs the scenario's query
 * through the gateway on the composite and directly on the ground truth (Neo4j's own Query
 * API, typed JSON), classifies the run (judge.ts), then swaps the shards. It owns the state of
 * the instances it is given: it deletes every node, relationship, index and constraint on them.
 *
 * Round trips are kept down: connections are reused (fetch keep-alive), an instance is reset
 * only when something may have written to it, setup runs on the shard and the truth in
 * parallel, and the ground truth's answer for the swapped run is reused when its query wrote
 * nothing and is deterministic.
 */
import type { TypedValue } from '../../src/values/typed.js';
import { classify, graphDigest, show, showRow, writeCounters, type Answer, type RunClass } from './judge.js';
import type { TckCase, TckQuery } from './scenario.js';

const TYPED = 'application/vnd.neo4j.query';
/** one statement, any instance: no TCK query is slow; a hung one must not hang the suite */
const REQUEST_TIMEOUT_MS = 60_000;

/** A Query API endpoint (`POST <base>/db/<db>/query/v2`), typed JSON both ways. */
export class QueryApiClient {
  /** statements sent so far (round trips) */
  requests = 0;

  constructor(
    readonly name: string,
    private readonly url: string,
    private readonly authorization: string,
  ) {}

  static forDatabase(name: string, base: string, db: string, authorization: string): QueryApiClient {
    return new QueryApiClient(name, `${base.replace(/\/$/, '')}/db/${encodeURIComponent(db)}/query/v2`, authorization);
  }

  async run(statement: string, parameters: Record<string, TypedValue> = {}): Promise<Answer> {
    let res: Response;
    let text: string;
    this.requests++;
    try {
      res = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': TYPED, accept: TYPED, authorization: this.authorization },
        body: JSON.stringify({ statement, parameters, includeCounters: true }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      text = await res.text();
    } catch (e) {
      return { ok: false, status: 0, code: 'Harness.NoAnswer', message: `${this.name}: ${(e as Error).message}` };
    }
    let body: {
      data?: { fields: string[]; values: TypedValue[][] };
      errors?: { code: string; message: string }[];
      counters?: Record<string, number | boolean>;
    };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      return { ok: false, status: res.status, code: 'Harness.NotJson', message: text.slice(0, 500) };
    }
    const err = body.errors?.[0];
    if (err || res.status !== 202 || !body.data) {
      const out: Answer = { ok: false, status: res.status, code: err?.code ?? `Harness.Status${res.status}`, message: err?.message ?? text.slice(0, 500) };
      if (body.data) out.partial = body.data;
      return out;
    }
    return { ok: true, fields: body.data.fields, values: body.data.values, ...(body.counters ? { counters: body.counters } : {}) };
  }

  /** runs and throws on failure (setup and reset must work) */
  async must(statement: string, parameters: Record<string, TypedValue> = {}): Promise<Extract<Answer, { ok: true }>> {
    const a = await this.run(statement, parameters);
    if (!a.ok) throw new Error(`${this.name}: ${a.code}: ${a.message}\nstatement: ${statement.slice(0, 500)}`);
    return a;
  }
}

export interface Instances {
  /** the composite's shards, each a direct client to the instance behind it */
  shards: [QueryApiClient, QueryApiClient];
  truth: QueryApiClient;
  /** the gateway, on the composite */
  gateway: QueryApiClient;
}

const SCHEMA_WORDS = /\b(INDEX|CONSTRAINT)\b/i;
/** a statement that may write, whatever its answer's counters say (a gateway's counters are under test too) */
const MAY_WRITE = /\b(CREATE|MERGE|SET|DELETE|REMOVE|DROP|LOAD|CALL|FOREACH)\b/i;
const NON_DETERMINISTIC =
  /\b(rand|randomUUID|timestamp)\s*\(|\b(date|datetime|localdatetime|localtime|time)(\.\w+)?\s*\(\s*\)|\b(date|datetime|localdatetime|localtime|time)(\.\w+)?\s*\(\s*\{\s*timezone/i;

/** Deletes every node and relationship; with `schema`, drops every constraint and index too (token lookup indexes are Neo4j's own and stay). */
export async function resetInstance(c: QueryApiClient, schema: boolean): Promise<void> {
  await c.must('MATCH (n) DETACH DELETE n');
  if (!schema) return;
  const constraints = await c.must('SHOW CONSTRAINTS YIELD name RETURN name');
  for (const [name] of constraints.values) await c.must(`DROP CONSTRAINT \`${String(name!._value)}\` IF EXISTS`);
  const indexes = await c.must("SHOW INDEXES YIELD name, type WHERE type <> 'LOOKUP' RETURN name");
  for (const [name] of indexes.values) await c.must(`DROP INDEX \`${String(name!._value)}\` IF EXISTS`);
}

export interface RunRecord {
  id: string;
  /** the shard that held the graph (0 or 1) */
  holder: number;
  class: RunClass;
  /** `query` (the scenario's query), `sideEffects` (the graph or counters after it), `control` (its control query) */
  stage?: 'query' | 'sideEffects' | 'control';
  reason?: string;
  floatOnly?: boolean;
  gatewayCode?: string;
  truthCode?: string;
}

export interface RunDetail extends RunRecord {
  file: string;
  feature: string;
  scenario: string;
  holderShard: string;
  statement: string;
  parameters?: Record<string, string>;
  expects: string;
  ordered: boolean;
  gateway: ReportAnswer;
  truth: ReportAnswer;
}

export type ReportAnswer =
  | { fields: string[]; rows: string[]; rowCount: number; counters?: Record<string, number> }
  | { error: string; status: number; message: string; partialRows?: string[] };

const MAX_REPORT_ROWS = 40;

export function reportAnswer(a: Answer): ReportAnswer {
  if (!a.ok) {
    const out: ReportAnswer = { error: a.code, status: a.status, message: a.message.slice(0, 600) };
    if (a.partial && a.partial.values.length) out.partialRows = a.partial.values.slice(0, MAX_REPORT_ROWS).map((r) => showRow(r));
    return out;
  }
  const counters = writeCounters(a.counters);
  return {
    fields: a.fields,
    rows: a.values.slice(0, MAX_REPORT_ROWS).map((r) => showRow(r)),
    rowCount: a.values.length,
    ...(Object.keys(counters).length ? { counters } : {}),
  };
}

const DUMP = 'MATCH (n) RETURN n, [(n)-[r]->(m) | [r, m]] AS out';

/** Runs cases against the instances; `onRun` sees every run as it finishes. */
export class TckHarness {
  /** instances that may hold data or schema (reset before the next use) */
  private dirty = new Set<QueryApiClient>();
  private schemaDirty = new Set<QueryApiClient>();
  readonly details: RunDetail[] = [];

  constructor(private readonly inst: Instances) {}

  /** round trips per endpoint so far */
  requests(): Record<string, number> {
    return Object.fromEntries([...this.all(), this.inst.gateway].map((c) => [c.name, c.requests]));
  }

  private all(): QueryApiClient[] {
    return [...this.inst.shards, this.inst.truth];
  }

  /** Full reset of every instance (data, constraints, indexes). */
  async resetAll(): Promise<void> {
    await Promise.all(this.all().map((c) => resetInstance(c, true)));
    this.dirty.clear();
    this.schemaDirty.clear();
  }

  private async reset(clients: QueryApiClient[]): Promise<void> {
    await Promise.all(
      clients
        .filter((c) => this.dirty.has(c) || this.schemaDirty.has(c))
        .map(async (c) => {
          await resetInstance(c, this.schemaDirty.has(c));
          this.dirty.delete(c);
          this.schemaDirty.delete(c);
        }),
    );
  }

  private touched(c: QueryApiClient, statement: string): void {
    this.dirty.add(c);
    if (SCHEMA_WORDS.test(statement)) this.schemaDirty.add(c);
  }

  private async setup(c: QueryApiClient, tc: TckCase): Promise<void> {
    for (const s of tc.setup) {
      this.touched(c, s);
      await c.must(s);
    }
  }

  /** Runs one scenario: the graph on shard 0, then on shard 1. */
  async runCase(tc: TckCase): Promise<RunRecord[]> {
    const q = tc.query!;
    const { shards, truth, gateway } = this.inst;
    const records: RunRecord[] = [];
    let truthAnswer: Answer | undefined;
    for (const holder of [0, 1]) {
      const shard = shards[holder]!;
      const reuseTruth = truthAnswer !== undefined && !writes(truthAnswer) && !NON_DETERMINISTIC.test(q.statement) && !tc.control;
      await this.reset(reuseTruth ? [...shards] : this.all());
      await Promise.all([this.setup(shard, tc), reuseTruth ? Promise.resolve() : this.setup(truth, tc)]);
      const [g, t] = await Promise.all([
        gateway.run(q.statement, tc.parameters),
        reuseTruth ? Promise.resolve(truthAnswer!) : truth.run(q.statement, tc.parameters),
      ]);
      // a query that answered and wrote nothing left its instances as they were; anything else may have written
      const mayWrite = MAY_WRITE.test(q.statement);
      if (!g.ok || writes(g) || mayWrite) for (const s of shards) this.touched(s, q.statement);
      if (!reuseTruth && (!t.ok || writes(t) || mayWrite)) this.touched(truth, q.statement);
      truthAnswer = t;
      const rec = await this.judge(tc, holder, q, g, t);
      records.push(rec);
    }
    return records;
  }

  private async judge(tc: TckCase, holder: number, q: TckQuery, g: Answer, t: Answer): Promise<RunRecord> {
    const { shards, truth, gateway } = this.inst;
    const base = { id: tc.id, holder };
    let v = classify(g, t, q);
    let stage: RunRecord['stage'] = 'query';
    let shownG = g;
    let shownT = t;
    let statement = q.statement;
    if (v.class === 'equal' && (writes(g) || writes(t))) {
      // same rows: the writes must have done the same (counters, and the graph they leave)
      const gc = JSON.stringify(writeCounters(g.ok ? g.counters : undefined));
      const tcn = JSON.stringify(writeCounters(t.ok ? t.counters : undefined));
      const [d0, d1, dt] = await Promise.all([shards[0].must(DUMP), shards[1].must(DUMP), truth.must(DUMP)]);
      const union = [...d0.values, ...d1.values];
      const same = JSON.stringify(graphDigest(union)) === JSON.stringify(graphDigest(dt.values));
      if (gc !== tcn || !same) {
        v = { class: 'different', reason: gc !== tcn ? `counters differ: ${gc} vs ${tcn}` : 'the graph after the write differs' };
        stage = 'sideEffects';
        shownG = { ok: true, fields: dt.fields, values: union };
        shownT = dt;
        statement = `${q.statement}\n// then, on every shard / on the truth:\n${DUMP}`;
      }
    }
    if (v.class === 'equal' && tc.control) {
      const c = tc.control;
      const [cg, ct] = await Promise.all([gateway.run(c.statement), truth.run(c.statement)]);
      const cv = classify(cg, ct, c);
      if (cv.class !== 'equal') {
        v = cv;
        stage = 'control';
        shownG = cg;
        shownT = ct;
        statement = `${q.statement}\n// then the control query:\n${c.statement}`;
      }
    }
    const rec: RunRecord = { ...base, class: v.class };
    if (stage !== 'query') rec.stage = stage;
    if (v.reason) rec.reason = v.reason;
    if (v.floatOnly) rec.floatOnly = true;
    if (!g.ok) rec.gatewayCode = g.code;
    if (!t.ok) rec.truthCode = t.code;
    if (v.class === 'different' || v.class === 'gatewayFailed') {
      const params = Object.keys(tc.parameters).length ? Object.fromEntries(Object.entries(tc.parameters).map(([k, x]) => [k, show(x)])) : undefined;
      this.details.push({
        ...rec,
        file: tc.file,
        feature: tc.feature,
        scenario: tc.scenario + (tc.example !== undefined ? ` (example ${tc.example})` : ''),
        holderShard: shards[holder]!.name,
        statement,
        ...(params ? { parameters: params } : {}),
        expects: q.expects,
        ordered: q.ordered,
        gateway: reportAnswer(shownG),
        truth: reportAnswer(shownT),
      });
    }
    return rec;
  }
}

/** an answer that may have changed the graph */
function writes(a: Answer): boolean {
  if (!a.ok) return false;
  return a.counters?.containsUpdates === true || a.counters?.containsSystemUpdates === true;
}
