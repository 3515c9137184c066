/**
 * Subqueries in the composite planner's clause walk: CALL { ... } with the variables it imports
 * (a scope clause or Cypher 5's importing WITH), walked per outer row once rows are local,
 * before any graph read as a producer that may anchor rows, or per shard inside the graph.names()
 * idiom; EXISTS/COUNT/COLLECT { ... } bodies per row; the kinds of what a subquery returns. The
 * idiom itself, UNWIND graph.names() AS g CALL { USE graph.byName(g) ... }, is recognised and
 * rewritten here: its body runs on each shard as written.
 */
import { Codes } from '../errors/index.js';
import type { StatementInfo } from '../cypher/classify.js';
import type { ParseNode } from '../cypher/grammar.js';
import type { Tree } from '../cypher/tree.js';
import type { CompositeSyntax, CompositeTarget } from './composite-syntax.js';
import { GRAPH_NAME_PARAM } from './plan.js';
import { refuse } from './refusal.js';
import type { ExprReader, Scope } from './scope.js';
import { spaces } from './text-edits.js';
import type { Mode, Part, State, Walk } from './walk-state.js';

/** the subqueries met by one statement's clause walk */
export class Subqueries {
  constructor(
    private readonly t: Tree,
    private readonly x: ExprReader,
    private readonly info: StatementInfo,
    private readonly target: CompositeTarget,
    private readonly syntax: CompositeSyntax,
    /** the clause walk (clauses.ts) each subquery's clauses go through */
    private readonly walk: Walk,
  ) {}

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

  subquery(call: ParseNode, st: State, mode: Mode): void {
    const t = this.t;
    if (t.kid(call, 'subqueryInTransactionsParameters')) {
      if (mode !== 'per-shard')
        refuse(`CALL { ... } IN TRANSACTIONS cannot run on a composite; send it to one shard with USE ${this.target.name}.<shard>.`, Codes.MultiShardWrite);
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
      refuse(
        'UNION (without ALL) inside a subquery that reads several shards cannot be de-duplicated exactly here; use UNION ALL, or DISTINCT in the outer query.',
      );
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

  isIdiomStart(unwind: ParseNode, next: ParseNode | undefined): boolean {
    const t = this.t;
    const fn = t.only(t.kid(unwind, 'expression')!, 'functionInvocation');
    return (
      !!fn && this.x.functionName(fn) === 'graph.names' && t.kids(fn, 'functionArgument').length === 0 && next !== undefined && t.is(next, 'subqueryClause')
    );
  }

  /** UNWIND graph.names() AS g CALL { [WITH g ...] USE graph.byName(g) <inner> }: <inner> runs on each shard as written */
  idiom(part: Part, unwind: ParseNode, call: ParseNode, st: State): void {
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
    this.syntax.passthroughOk = false;
    st.scope.set(g, 'value');
    const imported = this.importsOf(call, inner, st);
    if (!t.kid(call, 'subqueryScope') && k === 0) imported.set(g, 'value');
    const returned = this.subqueryBody(inner, imported, 'per-shard');
    for (const [name, kind] of returned) st.scope.set(name, kind);
    st.phase = 'local';
  }
}
