/**
 * Every statement passes this gate before it reaches Neo4j (REST, explicit transactions,
 * GraphQL; shards and composites): it is analysed (cached per text), the key's policy is checked
 * against what it does, and its USE clauses are resolved through the topology (never passed raw
 * to Neo4j: `USE system` is a 404 here, not a Neo4j call). A statement the gateway's grammar
 * cannot parse is not forwarded: Neo4j's own EXPLAIN (which runs nothing) words the syntax
 * error, and a statement Neo4j accepts but the gateway cannot read is refused.
 */
import type { Topology } from '../config/schema.js';
import type { Analysis, StatementAnalyzer } from '../cypher/analyzer.js';
import type { StatementInfo, UseRef } from '../cypher/classify.js';
import { Codes, GatewayError } from '../errors/index.js';
import { authorizeStatement, type Grants } from '../policy/statement-policy.js';
import type { AccessMode } from '../transport/types.js';

/** asks Neo4j to EXPLAIN a statement on a shard; resolves with Neo4j's error, or undefined when Neo4j accepts it */
export type Neo4jVerdict = (shard: string, statement: string) => Promise<{ code: string; message: string } | undefined>;

export interface GateRequest {
  mode: AccessMode;
  impersonates: boolean;
}

/** replaces [start, end) ranges of a text by spaces (newlines kept), so Neo4j's error positions still point into the user's text */
export function blank(text: string, ranges: readonly (readonly [number, number])[]): string {
  let out = text;
  for (const [s, e] of ranges) out = out.slice(0, s) + out.slice(s, e).replace(/[^\n]/g, ' ') + out.slice(e);
  return out;
}

export class StatementGate {
  constructor(
    private readonly topology: Topology,
    private readonly analyzer: StatementAnalyzer,
    private readonly verdict: Neo4jVerdict,
  ) {}

  /** the analysis of a statement, or the error Neo4j gives for it (a statement nobody understands is never run) */
  async understand(statement: string, shard: string): Promise<Analysis & { ok: true }> {
    const analysis = await this.analyzer.analyze(statement);
    if (analysis.ok) return analysis;
    const cached = analysis.attachments.verdict?.value as { code: string; message: string } | undefined;
    const err = cached ?? (await this.verdict(shard, statement));
    if (err) {
      if (!cached) this.analyzer.attach(analysis, 'verdict', err, err.message.length * 2 + 64);
      throw new GatewayError(err.code, err.message);
    }
    throw new GatewayError(
      Codes.StatementNotUnderstood,
      `The gateway could not analyse this statement (${analysis.failure.message}), so it does not forward it. Neo4j accepts it: the gateway's Cypher grammar may be older than the server's.`,
    );
  }

  /**
   * A statement for one shard: analysed, allowed for the key, its leading USE (which may only
   * name this shard) blanked out. Returns the text to send.
   */
  async forShard(grants: Grants, shard: string, statement: string, req: GateRequest): Promise<{ text: string; info: StatementInfo }> {
    const analysis = await this.understand(statement, shard);
    const { info } = analysis;
    authorizeStatement(grants, info, req);
    if (info.uses.length === 0) return { text: statement, info };
    const cached = analysis.attachments[`use:${shard}`]?.value as string | undefined;
    if (cached !== undefined) return { text: cached, info };
    for (const use of info.uses) this.checkShardUse(use, shard);
    const text = blank(
      statement,
      info.uses.map((u) => u.range),
    );
    this.analyzer.attach(analysis, `use:${shard}`, text, text.length * 2);
    return { text, info };
  }

  private checkShardUse(use: UseRef, shard: string): void {
    const t = use.target;
    if (t.kind !== 'name') {
      throw new GatewayError(Codes.UseNotAllowed, `A statement sent to /db/${shard} may only USE ${shard}; graph functions in USE are for composites.`, {
        refused: { need: 'use' },
      });
    }
    const name = t.parts.join('.');
    if (!use.top) {
      throw new GatewayError(Codes.UseNotAllowed, `USE inside a subquery is not supported on shard '${shard}'; send the statement to the database it names.`, {
        refused: { need: 'use' },
      });
    }
    if (name.toLowerCase() === shard.toLowerCase()) return;
    if (!Object.hasOwn(this.topology.shards, name) && !Object.hasOwn(this.topology.composites, name)) {
      throw new GatewayError(Codes.DatabaseNotFound, `Database does not exist. Database name: '${name}'.`);
    }
    throw new GatewayError(Codes.UseNotAllowed, `A statement sent to /db/${shard} may only USE ${shard}; send it to /db/${name} instead.`, {
      refused: { need: 'use' },
    });
  }

  /** a statement for a composite: analysed and allowed for the key (USE targets are resolved by the planner) */
  async forComposite(grants: Grants, firstShard: string, statement: string, req: GateRequest): Promise<Analysis & { ok: true }> {
    const analysis = await this.understand(statement, firstShard);
    authorizeStatement(grants, analysis.info, req);
    return analysis;
  }
}
