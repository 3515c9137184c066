/**
 * The composite planner's clause-by-clause state machine (planner.ts gives the proof it follows):
 * each clause of a query part moves the walk between the global and local phases, binds the kinds
 * of its variables, and is refused where a result row could combine data of several shards
 * (patterns not anchored on the row, graph reads in expressions, procedures, writes). WITH and
 * RETURN are read (projection.ts) and a merge point is planned (projection-plan.ts); subqueries
 * and the graph.names() idiom are walked through subqueries.ts.
 */
import { Codes } from '../errors/index.js';
import type { StatementInfo } from '../cypher/classify.js';
import type { ParseNode } from '../cypher/grammar.js';
import type { Tree } from '../cypher/tree.js';
import type { CompositeSyntax, CompositeTarget } from './composite-syntax.js';
import { readProjection } from './projection.js';
import { ProjectionPlanner, type FinalPlan } from './projection-plan.js';
import { refuse } from './refusal.js';
import type { ExprFacts, ExprReader } from './scope.js';
import { Subqueries } from './subqueries.js';
import type { Mode, Part, State } from './walk-state.js';

const IDIOM_HINT = 'name each shard with UNWIND graph.names() AS g CALL { USE graph.byName(g) ... } RETURN ...';

/** the clause walk of one statement; its subqueries are walked through it */
export class ClauseWalker {
  private readonly sub: Subqueries;

  constructor(
    private readonly t: Tree,
    private readonly x: ExprReader,
    info: StatementInfo,
    private readonly target: CompositeTarget,
    syntax: CompositeSyntax,
  ) {
    this.sub = new Subqueries(t, x, info, target, syntax, (part, clauses, st, mode) => this.walk(part, clauses, st, mode));
  }

  /**
   * Walks a query part's clauses. mode 'top': a top-level part (its final RETURN is planned into
   * a merge pipeline); 'row': a subquery evaluated per outer row in that row's shard (every graph
   * read must hang off an entity of the row, merges are per row and need nothing); 'producer': an
   * uncorrelated subquery before any graph read (it may anchor rows, but must not merge);
   * 'per-shard': the subquery of the graph.names() idiom (runs on each shard as written).
   */
  walk(part: Part, clauses: ParseNode[], st: State, mode: Mode): FinalPlan | 'once' | 'done' {
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
          if (mode === 'top' && this.sub.isIdiomStart(c, clauses[i + 1])) {
            this.sub.idiom(part, c, clauses[i + 1]!, st);
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
          this.sub.subquery(c, st, mode);
          break;
        case 'callClause':
          if (mode === 'per-shard') {
            this.bindYield(c, st);
            break;
          }
          refuse(
            `CALL ${t.text(t.kid(c, 'procedureName')!)}(): procedures read or change each shard as a whole, so their results cannot be combined exactly; run it on one shard with USE ${this.target.name}.<shard>, or ${IDIOM_HINT}.`,
          );
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
          refuse(
            `A write on composite '${this.target.name}' must go to exactly one shard (as in Neo4j composite databases): name it with USE ${this.target.name}.<shard> or select it with a shard key.`,
            Codes.MultiShardWrite,
          );
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

  private match(c: ParseNode, st: State, mode: Mode): void {
    const t = this.t;
    const optional = t.hasToken(c, 'OPTIONAL');
    const patterns = t.kids(t.kid(c, 'patternList')!, 'pattern');
    if (mode !== 'per-shard') {
      const comps = this.x.components(patterns);
      const anchoredBy = (vars: Set<string>) => [...vars].some((v) => st.scope.get(v) === 'entity' || st.scope.get(v) === 'nullable-entity');
      const loose = comps.filter((comp) => !anchoredBy(comp.vars));
      if (st.phase === 'global') {
        if (optional) {
          refuse(
            `OPTIONAL MATCH before any MATCH cannot be federated: each shard without a match would add its own row of nulls. Start with MATCH, run it on one shard with USE ${this.target.name}.<shard>, or ${IDIOM_HINT}.`,
          );
        }
        if (comps.length > 1)
          refuse(
            `${this.short(c)}: its patterns are not connected, so a result row could combine data of several shards (a cross-shard join). Connect the patterns, or ${IDIOM_HINT}.`,
          );
        if (mode === 'row') refuse(`A subquery whose MATCH does not start from a node or relationship of the outer row cannot be federated: ${this.short(c)}.`);
        st.phase = 'local';
      } else if (loose.length > 0) {
        refuse(
          `${this.short(c)}: it does not start from a node or relationship matched before, so a result row could combine data of several shards (a cross-shard join). Connect it to an earlier pattern, or ${IDIOM_HINT}.`,
        );
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
  checkExpr(e: ParseNode, st: State, where: string, mode: Mode): ExprFacts {
    const facts = this.x.facts(e, st.scope);
    if (mode === 'per-shard') return facts;
    for (const f of facts.graphFunctions) {
      if (this.x.functionName(f) !== 'graph.names') refuse(`${this.t.text(this.t.kid(f, 'functionName')!)}() is supported only in USE clauses on composites.`);
    }
    if (facts.userFunctions.length > 0) {
      refuse(
        `${facts.userFunctions[0]}(): user-defined functions may read each shard as a whole; run the statement on one shard with USE ${this.target.name}.<shard>, or ${IDIOM_HINT}.`,
      );
    }
    for (const read of facts.graphReads) this.checkGraphRead(read, st, where);
    return facts;
  }

  /** a pattern predicate, comprehension or EXISTS/COUNT/COLLECT subquery inside an expression */
  private checkGraphRead(read: ParseNode, st: State, where: string): void {
    const t = this.t;
    const what = `${this.short(read)} in ${where}`;
    if (st.phase === 'global') {
      refuse(
        `${what} reads graph data without starting from a matched node, so each shard would answer for its own data only. Start with MATCH, or ${IDIOM_HINT}.`,
      );
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
    this.sub.subqueryBody(regular, new Map(st.scope), 'row');
  }

  // ---- projections ----

  private with(part: Part, c: ParseNode, st: State, mode: Mode, rest: ParseNode[]): FinalPlan | 'continue' {
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

  private checkItemFacts(facts: ExprFacts, st: State, mode: Mode): void {
    if (mode === 'per-shard') return;
    for (const f of facts.graphFunctions) {
      if (this.x.functionName(f) !== 'graph.names') refuse(`${this.t.text(this.t.kid(f, 'functionName')!)}() is supported only in USE clauses on composites.`);
    }
    if (facts.userFunctions.length > 0)
      refuse(
        `${facts.userFunctions[0]}(): user-defined functions may read each shard as a whole; run the statement on one shard with USE ${this.target.name}.<shard>, or ${IDIOM_HINT}.`,
      );
    for (const read of facts.graphReads) this.checkGraphRead(read, st, 'RETURN');
  }

  private finalReturn(part: Part, c: ParseNode, st: State, mode: Mode): FinalPlan | 'once' | 'done' {
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
