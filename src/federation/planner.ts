/**
 * The composite planner (DESIGN §5): decides, for a statement on a composite, what each shard runs
 * and how the gateway merges the shards' rows so the answer is exactly the one a single database
 * holding every shard's data would give. Conservative by construction: it proves a shape is
 * mergeable or refuses it with Codes.FederationNotSupported and a reason naming the clause.
 *
 * The proof follows each query part clause by clause with a small state machine:
 *  - global: no graph data read yet; every shard computes the same rows (so running the prefix on
 *    each shard is harmless); a statement that never leaves this state runs once;
 *  - local: rows come from one shard's graph each (a MATCH whose pattern is one connected
 *    component anchored them); later graph reads must hang off an entity of the row (same shard),
 *    aggregation and DISTINCT are shard-complete when grouped by such an entity;
 *  - a merge point (aggregation or DISTINCT over several shards, ORDER BY, SKIP, LIMIT) is
 *    computed by the gateway: the shards return what the merge needs (projection.ts), at most one
 *    such point before the final RETURN.
 * Plans are plain data (plan.ts); refusals are returned, not thrown.
 */
import { Codes } from '../errors/index.js';
import type { StatementInfo } from '../cypher/classify.js';
import { stringLiteralValue } from '../cypher/classify.js';
import type { ParseNode } from '../cypher/grammar.js';
import { type Tree, nameParts, unquote } from '../cypher/tree.js';
import { GRAPH_NAMES_PARAM, GRAPH_NAME_PARAM, RESERVED, type ExtraParam, type GraphRef, type Plan, type Refusal, type ShardStatement } from './plan.js';
import { Refused, refuse } from './refusal.js';
import { readProjection } from './projection.js';
import { ProjectionPlanner, type FinalPlan } from './projection-plan.js';
import { ExprReader, type ExprFacts, type Scope, type VarKind } from './scope.js';
import { applyEdits, spaces, type TextEdit } from './text-edits.js';


const IDIOM_HINT = 'name each shard with UNWIND graph.names() AS g CALL { USE graph.byName(g) ... } RETURN ...';

export interface CompositeTarget {
  name: string;
  shards: readonly string[];
}

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

interface State {
  phase: 'global' | 'local';
  scope: Scope;
}

/** per-part planning context */
interface Part {
  node: ParseNode;
  clauses: ParseNode[];
  edits: TextEdit[];
  extra: Map<string, ExtraParam>;
  idiom: boolean;
}

export class CompositePlanner {
  private readonly x: ExprReader;
  /** edits of the whole statement for validation and passthrough (composite-only syntax neutralised) */
  private readonly neutral: TextEdit[] = [];
  private readonly neutralExtra = new Map<string, ExtraParam>();
  private passthroughOk = true;

  constructor(
    private readonly t: Tree,
    private readonly info: StatementInfo,
    private readonly target: CompositeTarget,
  ) {
    this.x = new ExprReader(t);
  }

  plan(statement: ParseNode): PlanOutcome {
    try {
      const planned = this.planStatement(statement);
      return { ok: true, planned };
    } catch (err) {
      if (err instanceof Refused) {
        const validation = this.info.kind === 'query' && !this.t.src.includes(RESERVED) ? this.validation() : undefined;
        return { ok: false, refusal: { code: err.code, message: err.message }, passthrough: this.passthroughOk ? this.passthrough() : undefined, validation };
      }
      throw err;
    }
  }

  private passthrough(): ShardStatement {
    return { text: applyEdits(this.t.src, this.neutral), extra: [...this.neutralExtra.values()] };
  }

  private statementPrefix(): string {
    return this.info.cypherOptions ? `${this.info.cypherOptions} ` : '';
  }

  private planStatement(statement: ParseNode): PlannedComposite {
    const t = this.t;
    if (t.src.includes(RESERVED)) {
      this.passthroughOk = false;
      refuse(`Names beginning with ${RESERVED} are reserved by the gateway on composites.`);
    }
    if (this.info.kind === 'command') {
      this.passthroughOk = false;
      refuse(`${this.info.command ?? 'Commands'} cannot run on composite '${this.target.name}': send it to one of its shards (${this.target.shards.join(', ')}).`);
    }
    const body = t.kid(t.kid(statement, 'preparsedStatement')!, 'statement')!;
    const regular = t.kid(body, 'regularQuery')!;
    const union = t.kid(regular, 'union');
    if (!union) refuse('Conditional queries (WHEN ... THEN) are not supported on composites.');
    this.neutralise(body);
    const singles = t.kids(union, 'singleQuery');
    const tokens = t.tokens(union);
    const parts = singles.map((sq) => this.planPart(sq));
    const writes = this.info.writes;
    if (parts.length === 1) {
      const p = parts[0]!;
      return { plan: p.plan, columns: p.columns, validation: p.plan.kind === 'fanout' ? this.validation() : undefined, passthrough: this.passthroughOk ? this.passthrough() : undefined, writes };
    }
    // every part names the same single graph: the whole statement runs there as it is
    const graphs = parts.map((p) => (p.plan.kind === 'single' ? JSON.stringify(p.plan.graph) : undefined));
    if (graphs.every((g) => g !== undefined && g === graphs[0])) {
      const first = parts[0]!.plan as Plan & { kind: 'single' };
      return { plan: { kind: 'single', graph: first.graph, statement: this.passthrough() }, columns: undefined, validation: undefined, passthrough: undefined, writes };
    }
    // no part reads graph data: the whole statement runs once, as written
    if (parts.every((p) => p.plan.kind === 'once')) {
      return { plan: { kind: 'once', statement: this.passthrough() }, columns: undefined, validation: undefined, passthrough: this.passthroughOk ? this.passthrough() : undefined, writes };
    }
    if (writes) refuse('A write in a UNION of several graphs would write to several shards.', Codes.MultiShardWrite);
    const distinct = !tokens.includes('ALL');
    const plan: Plan = { kind: 'union', parts: parts.map((p) => p.plan), distinct };
    // Neo4j validates the whole UNION once (e.g. it refuses mixing UNION and UNION ALL)
    return { plan, columns: parts[0]!.columns, validation: this.validation(), passthrough: this.passthroughOk ? this.passthrough() : undefined, writes };
  }

  /** EXPLAIN of the user's statement with composite-only syntax neutralised: Neo4j's own errors, on the user's text */
  private validation(): ShardStatement {
    const body = applyEdits(this.t.src, this.neutral, this.info.bodyStart);
    return { text: `EXPLAIN ${this.statementPrefix()}${body}`, extra: [...this.neutralExtra.values()] };
  }

  /** USE clauses blanked, graph.names() as a parameter: the text a single shard can run or EXPLAIN */
  private neutralise(body: ParseNode): void {
    const t = this.t;
    for (const use of t.find(body, 'useClause')) this.neutral.push([t.start(use), t.end(use), spaces(t.text(use))]);
    for (const f of t.find(body, 'functionInvocation')) {
      const name = this.x.functionName(f);
      if (name === 'graph.names') {
        this.neutral.push([t.start(f), t.end(f), `$${GRAPH_NAMES_PARAM}`]);
        this.neutralExtra.set(GRAPH_NAMES_PARAM, { name: GRAPH_NAMES_PARAM, kind: 'graphNames' });
      } else if (name.startsWith('graph.') && !t.find(body, 'useClause').some((u) => t.within(f, u))) {
        this.passthroughOk = false;
      }
    }
    if (t.find(body, 'useClause').some((u) => t.within(u, body) && !this.info.uses.find((x) => x.range[0] === t.start(u))?.top)) this.passthroughOk = false;
    for (const use of this.info.uses) {
      if (use.top && !(use.target.kind === 'name' && this.isComposite(use.target.parts))) this.passthroughOk = false;
    }
  }

  private isComposite(parts: string[]): boolean {
    return parts.length === 1 && parts[0] === this.target.name;
  }

  /** resolves a USE target to the composite itself, or one of its graphs */
  private graphOf(use: ParseNode): GraphRef | 'composite' {
    const ref = this.info.uses.find((u) => u.range[0] === this.t.start(use));
    if (!ref) refuse('USE clause not understood.');
    const target = ref.target;
    if (target.kind === 'name') {
      if (this.isComposite(target.parts)) return 'composite';
      return { kind: 'name', parts: target.parts };
    }
    if (target.kind === 'byName') {
      const arg = target.arg;
      if (arg.kind === 'string') return { kind: 'name', parts: [arg.value] };
      if (arg.kind === 'param') return { kind: 'param', name: arg.name };
      refuse(`USE graph.byName(${arg.kind === 'variable' ? arg.name : arg.text}) is supported with a string or a parameter, or as UNWIND graph.names() AS g CALL { USE graph.byName(g) ... }.`);
    }
    refuse(`USE ${target.text} is not supported on composites: use ${this.target.name}.<shard>, graph.byName(...) or the graph.names() idiom.`);
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
      graph = this.graphOf(first);
      part.edits.push([t.start(first), t.end(first), spaces(t.text(first))]);
      from = 1;
    }
    if (graph !== 'composite') {
      // one graph: the part runs there as written (nested USE would need a router per row)
      if (t.find(sq, 'useClause').length > 1) refuse('USE inside a subquery of a part that already names one graph is not supported.');
      this.rejectGraphFunctions(sq, part);
      return { plan: { kind: 'single', graph, statement: this.partStatement(part, true) }, columns: undefined };
    }
    const st: State = { phase: 'global', scope: new Map() };
    const final = this.walk(part, clauses.slice(from), st, 'top');
    this.graphNamesAsParameter(sq, part);
    if (final === 'once') {
      if (t.find(sq, 'useClause').length > (from === 1 ? 1 : 0)) refuse('USE inside a subquery is supported only as UNWIND graph.names() AS g CALL { USE graph.byName(g) ... }.');
      return { plan: { kind: 'once', statement: this.partStatement(part, true) }, columns: undefined };
    }
    if (final === 'done') refuse('A query that fans out over a composite must end with RETURN.');
    part.edits.push(...final.edits);
    const statement = this.partStatement(part, false);
    for (const p of final.extra) statement.extra.push(p);
    return { plan: { kind: 'fanout', statement, pipeline: final.pipeline, idiom: part.idiom, shardColumns: final.shardColumns }, columns: final.columns };
  }

  /** graph.names() outside the idiom's UNWIND: the composite's graph names, as a parameter */
  private graphNamesAsParameter(sq: ParseNode, part: Part): void {
    const t = this.t;
    for (const f of t.find(sq, 'functionInvocation')) {
      if (this.x.functionName(f) !== 'graph.names') continue;
      const [s, e] = t.range(f);
      if (part.edits.some(([a, b]) => a < e && s < b)) continue;
      part.edits.push([s, e, `$${GRAPH_NAMES_PARAM}`]);
      part.extra.set(GRAPH_NAMES_PARAM, { name: GRAPH_NAMES_PARAM, kind: 'graphNames' });
    }
  }

  /** graph.names() anywhere becomes a parameter; other graph functions outside USE are refused */
  private rejectGraphFunctions(scopeNode: ParseNode, part: Part): void {
    const t = this.t;
    for (const f of t.find(scopeNode, 'functionInvocation')) {
      if (t.find(scopeNode, 'useClause').some((u) => t.within(f, u))) continue;
      const name = this.x.functionName(f);
      if (name === 'graph.names') {
        part.edits.push([t.start(f), t.end(f), `$${GRAPH_NAMES_PARAM}`]);
        part.extra.set(GRAPH_NAMES_PARAM, { name: GRAPH_NAMES_PARAM, kind: 'graphNames' });
      } else if (name.startsWith('graph.')) {
        refuse(`${t.text(t.kid(f, 'functionName')!)}() is supported only in USE clauses on composites.`);
      }
    }
  }

  private partStatement(part: Part, keepPreparser: boolean): ShardStatement {
    const t = this.t;
    const extra = [...part.extra.values()];
    if (keepPreparser) {
      // the whole part with EXPLAIN/PROFILE and CYPHER options as written
      const start = this.isOnlyPart(part) ? 0 : t.start(part.node);
      const prefix = start === 0 ? '' : this.statementPrefix();
      return { text: prefix + applyEdits(t.src, part.edits, start, this.isOnlyPart(part) ? t.src.length : t.end(part.node)), extra };
    }
    return { text: this.statementPrefix() + applyEdits(t.src, part.edits, t.start(part.node), t.end(part.node)).trim(), extra };
  }

  private isOnlyPart(part: Part): boolean {
    const union = part.node.parentCtx;
    return !union || this.t.kids(union, 'singleQuery').length === 1;
  }

  // ---- the clause state machine ----

  /**
   * Walks a query part's clauses. mode 'top': a top-level part (its final RETURN is planned into
   * a merge pipeline); 'row': a subquery evaluated per outer row in that row's shard (every graph
   * read must hang off an entity of the row, merges are per row and need nothing); 'producer': an
   * uncorrelated subquery before any graph read (it may anchor rows, but must not merge);
   * 'per-shard': the subquery of the graph.names() idiom (runs on each shard as written).
   */
  private walk(part: Part, clauses: ParseNode[], st: State, mode: 'top' | 'row' | 'producer' | 'per-shard'): FinalPlan | 'once' | 'done' {
    const t = this.t;
    for (let i = 0; i < clauses.length; i++) {
      const c = clauses[i]!;
      const rule = t.rule(c)!;
      const last = i === clauses.length - 1;
      switch (rule) {
        case 'matchClause':
          this.match(c, st, mode);
          break;
        case 'unwindClause': {
          if (mode === 'top' && this.isIdiomStart(c, clauses[i + 1])) {
            this.idiom(part, c, clauses[i + 1]!, st);
            i++;
            break;
          }
          this.checkExpr(t.kid(c, 'expression')!, st, 'UNWIND', mode);
          st.scope.set(this.x.varName(t.kid(c, 'variable')!), 'value');
          break;
        }
        case 'loadCSVClause':
          this.checkExpr(t.kid(c, 'expression')!, st, 'LOAD CSV', mode);
          st.scope.set(this.x.varName(t.kid(c, 'variable')!), 'value');
          break;
        case 'subqueryClause':
          this.subquery(c, st, mode);
          break;
        case 'callClause':
          if (mode === 'per-shard') {
            this.bindYield(c, st);
            break;
          }
          refuse(`CALL ${t.text(t.kid(c, 'procedureName')!)}(): procedures read or change each shard as a whole, so their results cannot be combined exactly; run it on one shard with USE ${this.target.name}.<shard>, or ${IDIOM_HINT}.`);
        // eslint-disable-next-line no-fallthrough
        case 'withClause': {
          const outcome = this.with(part, c, st, mode, clauses.slice(i + 1));
          if (outcome !== 'continue') return outcome;
          break;
        }
        case 'returnClause': {
          if (!last) refuse('RETURN must be the last clause.');
          return this.finalReturn(part, c, st, mode);
        }
        case 'finishClause':
          if (mode === 'top' && st.phase === 'global') return 'once';
          return mode === 'top' ? { edits: [], extra: [], pipeline: [{ op: 'merge', order: [] }], columns: [], shardColumns: [] } : 'done';
        case 'useClause':
          // the graph.names() idiom's USE graph.byName(g): the shard is the graph
          if (mode === 'per-shard') break;
          refuse('USE is supported as the first clause of a query part, or as UNWIND graph.names() AS g CALL { USE graph.byName(g) ... }.');
        // eslint-disable-next-line no-fallthrough
        case 'createClause':
        case 'insertClause':
        case 'mergeClause':
        case 'setClause':
        case 'removeClause':
        case 'deleteClause':
        case 'foreachClause':
          if (mode === 'per-shard') break;
          refuse(`A write on composite '${this.target.name}' must go to exactly one shard (as in Neo4j composite databases): name it with USE ${this.target.name}.<shard> or select it with a shard key.`, Codes.MultiShardWrite);
        // eslint-disable-next-line no-fallthrough
        default:
          refuse(`${t.text(c).split(/\s+/)[0]!.toUpperCase()} is not supported on composites.`);
      }
    }
    // a part without RETURN: a subquery that returns nothing (unit subquery)
    if (mode === 'top') {
      if (st.phase === 'global') return 'once';
      refuse('A query that fans out over a composite must end with RETURN.');
    }
    return 'done';
  }

  private bindYield(call: ParseNode, st: State): void {
    for (const item of this.t.find(call, 'procedureResultItem')) {
      const vars = this.t.kids(item, 'variable');
      st.scope.set(this.x.varName(vars[vars.length - 1]!), 'value');
    }
  }

  // ---- MATCH ----

  private match(c: ParseNode, st: State, mode: 'top' | 'row' | 'producer' | 'per-shard'): void {
    const t = this.t;
    const optional = t.hasToken(c, 'OPTIONAL');
    const patterns = t.kids(t.kid(c, 'patternList')!, 'pattern');
    if (mode !== 'per-shard') {
      const comps = this.x.components(patterns);
      const anchoredBy = (vars: Set<string>) => [...vars].some((v) => st.scope.get(v) === 'entity' || st.scope.get(v) === 'nullable-entity');
      const loose = comps.filter((comp) => !anchoredBy(comp.vars));
      if (st.phase === 'global') {
        if (optional) {
          refuse(`OPTIONAL MATCH before any MATCH cannot be federated: each shard without a match would add its own row of nulls. Start with MATCH, run it on one shard with USE ${this.target.name}.<shard>, or ${IDIOM_HINT}.`);
        }
        if (comps.length > 1) refuse(`${this.short(c)}: its patterns are not connected, so a result row could combine data of several shards (a cross-shard join). Connect the patterns, or ${IDIOM_HINT}.`);
        if (mode === 'row') refuse(`A subquery whose MATCH does not start from a node or relationship of the outer row cannot be federated: ${this.short(c)}.`);
        st.phase = 'local';
      } else if (loose.length > 0) {
        refuse(`${this.short(c)}: it does not start from a node or relationship matched before, so a result row could combine data of several shards (a cross-shard join). Connect it to an earlier pattern, or ${IDIOM_HINT}.`);
      }
    } else if (st.phase === 'global') {
      st.phase = 'local';
    }
    for (const p of patterns) {
      const vars = this.x.patternVariables(p);
      for (const v of vars.single) if (!st.scope.has(v) || st.scope.get(v) === 'value') st.scope.set(v, optional ? 'nullable-entity' : 'entity');
      for (const v of vars.group) if (!st.scope.has(v)) st.scope.set(v, 'value');
    }
    // property maps, inline WHERE and the WHERE clause: evaluated per row after binding
    for (const e of t.find(t.kid(c, 'patternList')!, 'expression')) this.checkExpr(e, st, 'MATCH', mode);
    const where = t.kid(c, 'whereClause');
    if (where) this.checkExpr(t.kid(where, 'expression')!, st, 'WHERE', mode);
  }

  private short(n: ParseNode): string {
    const text = this.t.text(n).replace(/\s+/g, ' ');
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  }

  // ---- expressions ----

  /** an expression evaluated per row: where it reads graph data, that must hang off the row's entities */
  checkExpr(e: ParseNode, st: State, where: string, mode: 'top' | 'row' | 'producer' | 'per-shard'): ExprFacts {
    const facts = this.x.facts(e, st.scope);
    if (mode === 'per-shard') return facts;
    for (const f of facts.graphFunctions) {
      if (this.x.functionName(f) !== 'graph.names') refuse(`${this.t.text(this.t.kid(f, 'functionName')!)}() is supported only in USE clauses on composites.`);
    }
    if (facts.userFunctions.length > 0) {
      refuse(`${facts.userFunctions[0]}(): user-defined functions may read each shard as a whole; run the statement on one shard with USE ${this.target.name}.<shard>, or ${IDIOM_HINT}.`);
    }
    for (const read of facts.graphReads) this.checkGraphRead(read, st, where);
    return facts;
  }

  /** a pattern predicate, comprehension or EXISTS/COUNT/COLLECT subquery inside an expression */
  private checkGraphRead(read: ParseNode, st: State, where: string): void {
    const t = this.t;
    const what = `${this.short(read)} in ${where}`;
    if (st.phase === 'global') {
      refuse(`${what} reads graph data without starting from a matched node, so each shard would answer for its own data only. Start with MATCH, or ${IDIOM_HINT}.`);
    }
    const rule = t.rule(read)!;
    const entity = (v: string) => st.scope.get(v) === 'entity' || st.scope.get(v) === 'nullable-entity';
    if (rule === 'patternExpression' || rule === 'shortestPathExpression' || rule === 'patternComprehension') {
      const pattern = rule === 'patternComprehension' ? t.kid(read, 'pathPatternNonEmpty')! : read;
      if (!this.x.patternVariables(pattern).all.some(entity)) refuse(`${what} does not start from a node or relationship of the row (a cross-shard read).`);
      return;
    }
    // EXISTS { ... } / COUNT { ... } / COLLECT { ... }
    const regular = t.kid(read, 'regularQuery');
    if (!regular) {
      const list = t.kid(read, 'patternList')!;
      for (const comp of this.x.components(t.kids(list, 'pattern'))) {
        if (![...comp.vars].some(entity)) refuse(`${what}: a pattern does not start from a node or relationship of the row (a cross-shard read).`);
      }
      return;
    }
    this.subqueryBody(regular, new Map(st.scope), 'row');
  }

  // ---- CALL { ... } ----

  private importsOf(call: ParseNode, inner: ParseNode, st: State): Scope {
    const t = this.t;
    const scope: Scope = new Map();
    const scopeClause = t.kid(call, 'subqueryScope');
    if (scopeClause) {
      if (t.hasToken(scopeClause, '*')) return new Map(st.scope);
      for (const v of t.kids(scopeClause, 'variable')) scope.set(this.x.varName(v), st.scope.get(this.x.varName(v)) ?? 'value');
      return scope;
    }
    // Cypher 5: an importing WITH as the first clause of each part
    const union = t.kid(inner, 'union');
    for (const sq of union ? t.kids(union, 'singleQuery') : []) {
      const first = t.kid(sq, 'clause')?.children?.[0];
      if (first && t.is(first, 'withClause')) {
        const items = t.kid(t.kid(first, 'returnBody')!, 'returnItems')!;
        if (t.hasToken(items, '*')) for (const [k, v] of st.scope) scope.set(k, v);
        for (const it of t.kids(items, 'returnItem')) {
          const v = t.only(t.kid(it, 'expression')!, 'variable');
          if (v && st.scope.has(this.x.varName(v))) scope.set(this.x.varName(v), st.scope.get(this.x.varName(v))!);
        }
      }
    }
    return scope;
  }

  private subquery(call: ParseNode, st: State, mode: 'top' | 'row' | 'producer' | 'per-shard'): void {
    const t = this.t;
    if (t.kid(call, 'subqueryInTransactionsParameters')) {
      if (mode !== 'per-shard') refuse(`CALL { ... } IN TRANSACTIONS cannot run on a composite; send it to one shard with USE ${this.target.name}.<shard>.`, Codes.MultiShardWrite);
    }
    const inner = t.kid(call, 'regularQuery')!;
    const imported = this.importsOf(call, inner, st);
    const optional = t.hasToken(call, 'OPTIONAL');
    let returned: Scope;
    if (mode === 'per-shard') {
      returned = this.subqueryBody(inner, imported, 'per-shard');
    } else if (st.phase === 'local') {
      // evaluated per outer row, in that row's shard: merges inside are per row
      returned = this.subqueryBody(inner, imported, 'row');
    } else {
      if (optional) refuse('OPTIONAL CALL before any MATCH cannot be federated.');
      const before = [...imported.values()];
      void before;
      const sub = this.subqueryProducer(inner, imported);
      returned = sub.returned;
      if (sub.local) st.phase = 'local';
    }
    for (const [k, v] of returned) st.scope.set(k, optional && v === 'entity' ? 'nullable-entity' : v);
  }

  /** a subquery evaluated per row (or per shard): refusals inside propagate; returns the kinds of what it returns */
  subqueryBody(regular: ParseNode, imported: Scope, mode: 'row' | 'per-shard'): Scope {
    const t = this.t;
    const union = t.kid(regular, 'union');
    if (!union) refuse('Conditional subqueries (WHEN ... THEN) are not supported on composites.');
    let returned: Scope = new Map();
    for (const sq of t.kids(union, 'singleQuery')) {
      if (!t.kid(sq, 'clause')) refuse('USE <graph> { subquery } is not supported on composites.');
      const clauses = t.kids(sq, 'clause').map((c) => (c.children ?? [])[0]!);
      const st: State = { phase: mode === 'per-shard' ? 'local' : 'local', scope: new Map(imported) };
      if (mode === 'row' && ![...imported.values()].some((k) => k === 'entity' || k === 'nullable-entity')) {
        // nothing of the row to start from: any graph read inside would read the whole shard
        st.phase = 'global';
      }
      this.walk({ node: sq, clauses, edits: [], extra: new Map(), idiom: false }, clauses, st, mode);
      returned = this.returnedKinds(clauses, st);
    }
    return returned;
  }

  /** an uncorrelated subquery before any graph read: it may anchor rows but not merge them */
  private subqueryProducer(regular: ParseNode, imported: Scope): { returned: Scope; local: boolean } {
    const t = this.t;
    const union = t.kid(regular, 'union');
    if (!union) refuse('Conditional subqueries (WHEN ... THEN) are not supported on composites.');
    const singles = t.kids(union, 'singleQuery');
    let local = false;
    let returned: Scope = new Map();
    for (const sq of singles) {
      const clauses = t.kids(sq, 'clause').map((c) => (c.children ?? [])[0]!);
      const st: State = { phase: 'global', scope: new Map(imported) };
      this.walk({ node: sq, clauses, edits: [], extra: new Map(), idiom: false }, clauses, st, 'producer');
      if (st.phase === 'local') local = true;
      returned = this.returnedKinds(clauses, st);
    }
    if (local && singles.length > 1 && !t.tokens(union).includes('ALL')) {
      refuse('UNION (without ALL) inside a subquery that reads several shards cannot be de-duplicated exactly here; use UNION ALL, or DISTINCT in the outer query.');
    }
    return { returned, local };
  }

  /** kinds of the variables a (sub)query returns: a bare variable keeps its kind */
  private returnedKinds(clauses: ParseNode[], st: State): Scope {
    const t = this.t;
    const last = clauses[clauses.length - 1];
    const out: Scope = new Map();
    if (!last || !t.is(last, 'returnClause')) return out;
    const body = t.kid(last, 'returnBody')!;
    const items = t.kid(body, 'returnItems')!;
    if (t.hasToken(items, '*')) for (const [k, v] of st.scope) out.set(k, v);
    for (const it of t.kids(items, 'returnItem')) {
      const expr = t.kid(it, 'expression')!;
      const alias = t.kid(it, 'variable');
      const name = alias ? this.x.varName(alias) : t.text(expr);
      const v = t.only(expr, 'variable');
      out.set(name, v ? (st.scope.get(this.x.varName(v)) ?? 'value') : 'value');
    }
    return out;
  }

  // ---- the graph.names() idiom ----

  private isIdiomStart(unwind: ParseNode, next: ParseNode | undefined): boolean {
    const t = this.t;
    const fn = t.only(t.kid(unwind, 'expression')!, 'functionInvocation');
    return !!fn && this.x.functionName(fn) === 'graph.names' && t.kids(fn, 'functionArgument').length === 0 && next !== undefined && t.is(next, 'subqueryClause');
  }

  /** UNWIND graph.names() AS g CALL { [WITH g ...] USE graph.byName(g) <inner> }: <inner> runs on each shard as written */
  private idiom(part: Part, unwind: ParseNode, call: ParseNode, st: State): void {
    const t = this.t;
    if (st.phase !== 'global') refuse('UNWIND graph.names() ... must come before any MATCH on a composite.');
    const g = this.x.varName(t.kid(unwind, 'variable')!);
    const inner = t.kid(call, 'regularQuery')!;
    const union = t.kid(inner, 'union');
    if (!union || t.kids(union, 'singleQuery').length !== 1) refuse('In the graph.names() idiom the CALL subquery must be one query (no UNION).');
    if (t.kid(call, 'subqueryInTransactionsParameters')) refuse('CALL { ... } IN TRANSACTIONS cannot run on a composite.', Codes.MultiShardWrite);
    const sq = t.kids(union, 'singleQuery')[0]!;
    const clauses = t.kids(sq, 'clause').map((c) => (c.children ?? [])[0]!);
    let k = 0;
    if (t.is(clauses[0], 'withClause')) k = 1;
    const use = clauses[k];
    if (!use || !t.is(use, 'useClause')) refuse(`In the graph.names() idiom the subquery must start with USE graph.byName(${g}).`);
    const ref = this.info.uses.find((u) => u.range[0] === t.start(use));
    if (!ref || ref.target.kind !== 'byName' || ref.target.arg.kind !== 'variable' || ref.target.arg.name !== g) {
      refuse(`In the graph.names() idiom the subquery must USE graph.byName(${g}).`);
    }
    if (t.find(sq, 'useClause').length > 1) refuse('Only one USE is supported inside the graph.names() idiom.');
    // each shard: one row, g = its own graph name; the USE is blanked (the shard is the graph)
    const expr = t.kid(unwind, 'expression')!;
    part.edits.push([t.start(expr), t.end(expr), `[$${GRAPH_NAME_PARAM}]`]);
    part.edits.push([t.start(use), t.end(use), spaces(t.text(use))]);
    part.extra.set(GRAPH_NAME_PARAM, { name: GRAPH_NAME_PARAM, kind: 'graphName' });
    part.idiom = true;
    this.passthroughOk = false;
    st.scope.set(g, 'value');
    const imported = this.importsOf(call, inner, st);
    if (!t.kid(call, 'subqueryScope') && k === 0) imported.set(g, 'value');
    const returned = this.subqueryBody(inner, imported, 'per-shard');
    for (const [name, kind] of returned) st.scope.set(name, kind);
    st.phase = 'local';
  }

  // ---- projections ----

  private with(part: Part, c: ParseNode, st: State, mode: 'top' | 'row' | 'producer' | 'per-shard', rest: ParseNode[]): FinalPlan | 'continue' {
    const proj = readProjection(this.t, this.x, c, st.scope);
    if (mode === 'per-shard' || mode === 'row' || st.phase === 'global') {
      // per shard, per row, or the same on every shard: nothing to merge
      for (const item of proj.items) this.checkItemFacts(item.facts, st, mode);
      if (proj.where) this.checkExpr(proj.where, { phase: st.phase, scope: proj.scopeAfter }, 'WHERE', mode);
      for (const o of proj.order) this.checkExpr(o.expr, st, 'ORDER BY', mode);
      st.scope = proj.scopeAfter;
      return 'continue';
    }
    for (const item of proj.items) this.checkItemFacts(item.facts, st, mode);
    if (proj.where) this.checkExpr(proj.where, { phase: 'local', scope: proj.scopeAfter }, 'WHERE', mode);
    for (const o of proj.order) this.checkExpr(o.expr, st, 'ORDER BY', mode);
    if (proj.kind === 'row-local') {
      st.scope = proj.scopeAfter;
      return 'continue';
    }
    if (mode !== 'top') {
      refuse(`WITH ${this.short(proj.body)} inside a subquery would have to combine rows of several shards; move it to the outer query.`);
    }
    // a merge point: the rest must be the final RETURN
    const ret = rest[0];
    if (rest.length !== 1 || !ret || !this.t.is(ret, 'returnClause')) {
      refuse(
        `WITH ${this.short(proj.body)} combines rows of several shards (${proj.reason}); on a composite it can only be followed directly by the final RETURN. Compute the rest on one shard with USE ${this.target.name}.<shard>, or ${IDIOM_HINT}.`,
      );
    }
    const retProj = readProjection(this.t, this.x, ret, proj.scopeAfter);
    for (const item of retProj.items) this.checkItemFacts(item.facts, { phase: 'local', scope: proj.scopeAfter }, mode);
    for (const o of retProj.order) this.checkExpr(o.expr, { phase: 'local', scope: proj.scopeAfter }, 'ORDER BY', mode);
    void part;
    return new ProjectionPlanner(this.t, this.x, this.target.name).twoStage(proj, retProj);
  }

  private checkItemFacts(facts: ExprFacts, st: State, mode: 'top' | 'row' | 'producer' | 'per-shard'): void {
    if (mode === 'per-shard') return;
    for (const f of facts.graphFunctions) {
      if (this.x.functionName(f) !== 'graph.names') refuse(`${this.t.text(this.t.kid(f, 'functionName')!)}() is supported only in USE clauses on composites.`);
    }
    if (facts.userFunctions.length > 0) refuse(`${facts.userFunctions[0]}(): user-defined functions may read each shard as a whole; run the statement on one shard with USE ${this.target.name}.<shard>, or ${IDIOM_HINT}.`);
    for (const read of facts.graphReads) this.checkGraphRead(read, st, 'RETURN');
  }

  private finalReturn(part: Part, c: ParseNode, st: State, mode: 'top' | 'row' | 'producer' | 'per-shard'): FinalPlan | 'once' | 'done' {
    const proj = readProjection(this.t, this.x, c, st.scope);
    if (mode !== 'top') {
      if (mode === 'producer' && st.phase === 'local' && proj.kind !== 'row-local') {
        refuse(`A subquery that reads several shards cannot be combined exactly where ${proj.reason}; do that in the outer query, or ${IDIOM_HINT}.`);
      }
      for (const item of proj.items) this.checkItemFacts(item.facts, st, mode);
      for (const o of proj.order) this.checkExpr(o.expr, st, 'ORDER BY', mode);
      st.scope = proj.scopeAfter;
      return 'done';
    }
    for (const item of proj.items) this.checkItemFacts(item.facts, st, mode);
    for (const o of proj.order) this.checkExpr(o.expr, st, 'ORDER BY', mode);
    if (st.phase === 'global') return 'once';
    void part;
    return new ProjectionPlanner(this.t, this.x, this.target.name).single(proj);
  }
}

/** the value of a graph name string literal, for tests */
export function graphNameOf(text: string): string[] {
  return text.startsWith("'") || text.startsWith('"') ? [stringLiteralValue(text)] : nameParts(text).map(unquote);
}

export type { VarKind };
