/**
 * The composite planner (DESIGN §5): decides, for a statement on a composite, what each shard runs
 * and how the gateway merges the shards' rows so the answer is exactly the one a single database
 * holding every shard's data would give. Conservative by construction: it proves a shape is
 * mergeable or refuses it with Codes.FederationNotSupported and a reason naming the clause.
 *
 * The proof follows each query part clause by clause with a small state machine (clauses.ts;
 * subqueries and the graph.names() idiom: subqueries.ts):
 *  - global: no graph data read yet; every shard computes the same rows (so running the prefix on
 *    each shard is harmless); a statement that never leaves this state runs once;
 *  - local: rows come from one shard's graph each (a MATCH whose pattern is one connected
 *    component anchored them); later graph reads must hang off an entity of the row (same shard),
 *    aggregation and DISTINCT are shard-complete when grouped by such an entity;
 *  - a merge point (aggregation or DISTINCT over several shards, ORDER BY, SKIP, LIMIT) is
 *    computed by the gateway: the shards return what the merge needs (projection.ts), at most one
 *    such point before the final RETURN.
 * Plans are plain data (plan.ts); refusals are returned, not thrown. This module plans the
 * statement and its parts (UNION): a part runs on the one graph its USE names, once (no graph
 * read), or as a fan-out; USE and graph functions are resolved, and the statement neutralised for
 * validation and passthrough, by composite-syntax.ts.
 */
import type { StatementInfo } from '../cypher/classify.js';
import type { ParseNode } from '../cypher/grammar.js';
import type { Tree } from '../cypher/tree.js';
import { Codes } from '../errors/index.js';
import { ClauseWalker } from './clauses.js';
import { CompositeSyntax, DEFAULT_MAX_UNION_PARTS, type CompositeTarget } from './composite-syntax.js';
import { RESERVED, type GraphRef, type Plan, type Refusal, type ShardStatement } from './plan.js';
import { Refused, refuse } from './refusal.js';
import { ExprReader, type VarKind } from './scope.js';
import { applyEdits, spaces } from './text-edits.js';
import type { Part, State } from './walk-state.js';

export type { CompositeTarget };

export interface PlannedComposite {
  plan: Plan;
  /** output column names of the statement (undefined: those the shards return) */
  columns: string[] | undefined;
  /** the text Neo4j EXPLAINs once before a fan-out (the user's statement with composite-only syntax neutralised) */
  validation: ShardStatement | undefined;
  /** one shard selected (shard key, single-shard composite): this runs as is, even where a fan-out would be refused */
  passthrough: ShardStatement | undefined;
  writes: boolean;
}

export type PlanOutcome =
  | { ok: true; planned: PlannedComposite }
  /** `validation`: Neo4j EXPLAINs the statement first, so a statement Neo4j itself refuses gets Neo4j's error, not the gateway's */
  | { ok: false; refusal: Refusal; passthrough: ShardStatement | undefined; validation: ShardStatement | undefined };

export class CompositePlanner {
  private readonly syntax: CompositeSyntax;
  private readonly walker: ClauseWalker;

  constructor(
    private readonly t: Tree,
    private readonly info: StatementInfo,
    private readonly target: CompositeTarget,
  ) {
    const x = new ExprReader(t);
    this.syntax = new CompositeSyntax(t, info, target, x);
    this.walker = new ClauseWalker(t, x, info, target, this.syntax);
  }

  plan(statement: ParseNode): PlanOutcome {
    try {
      const planned = this.planStatement(statement);
      return { ok: true, planned };
    } catch (err) {
      if (err instanceof Refused) {
        const validation = this.info.kind === 'query' && !this.t.src.includes(RESERVED) ? this.syntax.validation() : undefined;
        return {
          ok: false,
          refusal: { code: err.code, message: err.message },
          passthrough: this.syntax.passthroughOk ? this.syntax.passthrough() : undefined,
          validation,
        };
      }
      throw err;
    }
  }

  private planStatement(statement: ParseNode): PlannedComposite {
    const t = this.t;
    if (t.src.includes(RESERVED)) {
      this.syntax.passthroughOk = false;
      refuse(`Names beginning with ${RESERVED} are reserved by the gateway on composites.`);
    }
    if (this.info.kind === 'command') {
      this.syntax.passthroughOk = false;
      refuse(
        `${this.info.command ?? 'Commands'} cannot run on composite '${this.target.name}': send it to one of its shards (${this.target.shards.join(', ')}).`,
      );
    }
    const body = t.kid(t.kid(statement, 'preparsedStatement')!, 'statement')!;
    const regular = t.kid(body, 'regularQuery')!;
    const union = t.kid(regular, 'union');
    if (!union) refuse('Conditional queries (WHEN ... THEN) are not supported on composites.');
    this.syntax.neutralise(body);
    const singles = t.kids(union, 'singleQuery');
    // each part of a UNION may fan out to every shard: one request must not become thousands of
    // shard statements (nor plan for seconds on the event loop)
    const maxParts = this.target.maxUnionParts ?? DEFAULT_MAX_UNION_PARTS;
    if (singles.length > maxParts) {
      refuse(
        `A UNION of ${singles.length} parts is more than ${maxParts}, the most a composite query may have (limits.maxUnionParts); send it to one shard with USE, or split it.`,
        Codes.StatementTooComplex,
      );
    }
    const tokens = t.tokens(union);
    const parts = singles.map((sq) => this.planPart(sq));
    const writes = this.info.writes;
    if (parts.length === 1) {
      const p = parts[0]!;
      return {
        plan: p.plan,
        columns: p.columns,
        validation: p.plan.kind === 'fanout' ? this.syntax.validation() : undefined,
        passthrough: this.syntax.passthroughOk ? this.syntax.passthrough() : undefined,
        writes,
      };
    }
    // every part names the same single graph: the whole statement runs there as it is
    const graphs = parts.map((p) => (p.plan.kind === 'single' ? JSON.stringify(p.plan.graph) : undefined));
    if (graphs.every((g) => g !== undefined && g === graphs[0])) {
      const first = parts[0]!.plan as Plan & { kind: 'single' };
      return {
        plan: { kind: 'single', graph: first.graph, statement: this.syntax.passthrough() },
        columns: undefined,
        validation: undefined,
        passthrough: undefined,
        writes,
      };
    }
    // no part reads graph data: the whole statement runs once, as written
    if (parts.every((p) => p.plan.kind === 'once')) {
      return {
        plan: { kind: 'once', statement: this.syntax.passthrough() },
        columns: undefined,
        validation: undefined,
        passthrough: this.syntax.passthroughOk ? this.syntax.passthrough() : undefined,
        writes,
      };
    }
    if (writes) refuse('A write in a UNION of several graphs would write to several shards.', Codes.MultiShardWrite);
    const distinct = !tokens.includes('ALL');
    const plan: Plan = { kind: 'union', parts: parts.map((p) => p.plan), distinct };
    // Neo4j validates the whole UNION once (e.g. it refuses mixing UNION and UNION ALL)
    return {
      plan,
      columns: parts[0]!.columns,
      validation: this.syntax.validation(),
      passthrough: this.syntax.passthroughOk ? this.syntax.passthrough() : undefined,
      writes,
    };
  }

  private planPart(sq: ParseNode): { plan: Plan; columns: string[] | undefined } {
    const t = this.t;
    if (!t.kid(sq, 'clause')) refuse('USE <graph> { subquery } is not supported on composites.');
    const clauses = t.kids(sq, 'clause').map((c) => (c.children ?? [])[0]!);
    let from = 0;
    let graph: GraphRef | 'composite' = 'composite';
    const first = clauses[0]!;
    const part: Part = { node: sq, clauses, edits: [], extra: new Map(), idiom: false };
    if (t.is(first, 'useClause')) {
      graph = this.syntax.graphOf(first);
      part.edits.push([t.start(first), t.end(first), spaces(t.text(first))]);
      from = 1;
    }
    if (graph !== 'composite') {
      // one graph: the part runs there as written (nested USE would need a router per row)
      if (t.find(sq, 'useClause').length > 1) refuse('USE inside a subquery of a part that already names one graph is not supported.');
      this.syntax.rejectGraphFunctions(sq, part);
      return { plan: { kind: 'single', graph, statement: this.partStatement(part, true) }, columns: undefined };
    }
    const st: State = { phase: 'global', scope: new Map() };
    const final = this.walker.walk(part, clauses.slice(from), st, 'top');
    this.syntax.graphNamesAsParameter(sq, part);
    if (final === 'once') {
      if (t.find(sq, 'useClause').length > (from === 1 ? 1 : 0))
        refuse('USE inside a subquery is supported only as UNWIND graph.names() AS g CALL { USE graph.byName(g) ... }.');
      return { plan: { kind: 'once', statement: this.partStatement(part, true) }, columns: undefined };
    }
    if (final === 'done') refuse('A query that fans out over a composite must end with RETURN.');
    part.edits.push(...final.edits);
    const statement = this.partStatement(part, false);
    for (const p of final.extra) statement.extra.push(p);
    return { plan: { kind: 'fanout', statement, pipeline: final.pipeline, idiom: part.idiom, shardColumns: final.shardColumns }, columns: final.columns };
  }

  private partStatement(part: Part, keepPreparser: boolean): ShardStatement {
    const t = this.t;
    const extra = [...part.extra.values()];
    if (keepPreparser) {
      // the whole part with EXPLAIN/PROFILE and CYPHER options as written
      const start = this.isOnlyPart(part) ? 0 : t.start(part.node);
      const prefix = start === 0 ? '' : this.syntax.statementPrefix();
      return { text: prefix + applyEdits(t.src, part.edits, start, this.isOnlyPart(part) ? t.src.length : t.end(part.node)), extra };
    }
    return { text: this.syntax.statementPrefix() + applyEdits(t.src, part.edits, t.start(part.node), t.end(part.node)).trim(), extra };
  }

  private isOnlyPart(part: Part): boolean {
    const union = part.node.parentCtx;
    return !union || this.t.kids(union, 'singleQuery').length === 1;
  }
}

export type { VarKind };
