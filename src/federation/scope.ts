/**
 * What the composite planner needs to know about expressions and patterns, read off Neo4j's parse
 * tree with Cypher's scoping: which outer variables an expression refers to (list comprehensions,
 * quantifiers, reduce and pattern comprehensions bind their own), where it reads graph data
 * (pattern predicates, comprehensions, EXISTS/COUNT/COLLECT subqueries), which aggregates it
 * calls, and how a MATCH's patterns fall apart into connected components. Pure and read-only.
 */
import type { ParseNode } from '../cypher/grammar.js';
import { AGGREGATE_FUNCTIONS, BUILTIN_FUNCTIONS } from '../cypher/catalog.js';
import { nameParts, type Tree, unquote } from '../cypher/tree.js';

/**
 * What a variable holds, as far as sharding goes: an `entity` is a node, relationship or path read
 * from one shard's graph (never null): rows that hold it come from that shard alone; a
 * `nullable-entity` may be null (OPTIONAL MATCH); anything else is a `value`.
 */
export type VarKind = 'entity' | 'nullable-entity' | 'value';
export type Scope = Map<string, VarKind>;

export interface AggregateCall {
  node: ParseNode;
  /** lower-case name; count(*) is 'count' with star */
  fn: string;
  star: boolean;
  distinct: boolean;
  args: ParseNode[];
}

export interface ExprFacts {
  /** outer variables referred to, with every occurrence (for renaming) */
  refs: Map<string, ParseNode[]>;
  /** graph reads inside the expression: pattern predicates, comprehensions, subqueries */
  graphReads: ParseNode[];
  aggregates: AggregateCall[];
  /** functions that are not Neo4j built-ins */
  userFunctions: string[];
  /** graph.* functions (composite-only) */
  graphFunctions: ParseNode[];
  /** occurrences of a referenced variable where only a variable may stand (map projection subject) */
  pinnedRefs: Set<ParseNode>;
  /** outer variables referred to from inside a pattern or subquery */
  refsInGraphReads: Set<string>;
}

function emptyFacts(): ExprFacts {
  return { refs: new Map(), graphReads: [], aggregates: [], userFunctions: [], graphFunctions: [], pinnedRefs: new Set(), refsInGraphReads: new Set() };
}

const GRAPH_READ_RULES: ReadonlySet<string> = new Set([
  'patternExpression',
  'patternComprehension',
  'existsExpression',
  'countExpression',
  'collectExpression',
  'shortestPathExpression',
]);

export class ExprReader {
  constructor(private readonly t: Tree) {}

  varName(v: ParseNode): string {
    return unquote(this.t.text(v));
  }

  /** facts about an expression (or any subtree) evaluated where `visible` names are in scope */
  facts(node: ParseNode, visible: ReadonlySet<string> | Scope): ExprFacts {
    const out = emptyFacts();
    this.walk(node, new Set(), visible, out, false);
    return out;
  }

  private ref(name: string, node: ParseNode, out: ExprFacts, inGraph: boolean): void {
    const list = out.refs.get(name);
    if (list) list.push(node);
    else out.refs.set(name, [node]);
    if (inGraph) out.refsInGraphReads.add(name);
  }

  private walk(n: ParseNode, bound: ReadonlySet<string>, visible: ReadonlySet<string> | Scope, out: ExprFacts, inGraph: boolean): void {
    const t = this.t;
    const rule = t.rule(n);
    if (rule === undefined) return;
    switch (rule) {
      case 'variable': {
        const name = this.varName(n);
        if (!bound.has(name)) this.ref(name, n, out, inGraph);
        return;
      }
      case 'listComprehension':
      case 'listItemsPredicate': {
        const v = t.kid(n, 'variable')!;
        const exprs = t.kids(n, 'expression');
        this.walk(exprs[0]!, bound, visible, out, inGraph);
        const inner = new Set(bound).add(this.varName(v));
        for (const e of exprs.slice(1)) this.walk(e, inner, visible, out, inGraph);
        return;
      }
      case 'reduceExpression': {
        const vars = t.kids(n, 'variable');
        const exprs = t.kids(n, 'expression');
        this.walk(exprs[0]!, bound, visible, out, inGraph);
        this.walk(exprs[1]!, bound, visible, out, inGraph);
        const inner = new Set(bound);
        for (const v of vars) inner.add(this.varName(v));
        this.walk(exprs[2]!, inner, visible, out, inGraph);
        return;
      }
      case 'patternComprehension': {
        out.graphReads.push(n);
        const inner = new Set(bound);
        const pathVar = t.kid(n, 'variable');
        if (pathVar) inner.add(this.varName(pathVar));
        const pattern = t.kid(n, 'pathPatternNonEmpty')!;
        for (const v of this.patternVariables(pattern).all) {
          if (!isVisible(visible, v) || bound.has(v)) inner.add(v);
        }
        this.walkPattern(pattern, inner, visible, out);
        for (const e of t.kids(n, 'expression')) this.walk(e, inner, visible, out, true);
        return;
      }
      case 'patternExpression':
      case 'shortestPathExpression':
        out.graphReads.push(n);
        this.walkPattern(n, bound, visible, out);
        return;
      case 'existsExpression':
      case 'countExpression':
      case 'collectExpression': {
        out.graphReads.push(n);
        // the subquery sees every outer variable; its own are bound inside it
        const inner = new Set(bound);
        for (const v of t.find(n, 'variable')) {
          const name = this.varName(v);
          if (isVisible(visible, name) && !bound.has(name)) this.ref(name, v, out, true);
          else inner.add(name);
        }
        for (const f of t.find(n, 'functionInvocation')) this.noteFunction(f, out);
        return;
      }
      case 'mapProjection': {
        const subject = t.kid(n, 'variable')!;
        const name = this.varName(subject);
        if (!bound.has(name)) {
          this.ref(name, subject, out, inGraph);
          out.pinnedRefs.add(subject);
        }
        for (const el of t.kids(n, 'mapProjectionElement')) {
          const v = t.kid(el, 'variable');
          if (v) this.walk(v, bound, visible, out, inGraph);
          const e = t.kid(el, 'expression');
          if (e) this.walk(e, bound, visible, out, inGraph);
        }
        return;
      }
      case 'countStar':
        out.aggregates.push({ node: n, fn: 'count', star: true, distinct: false, args: [] });
        return;
      case 'functionInvocation': {
        this.noteFunction(n, out);
        const name = this.functionName(n);
        if (AGGREGATE_FUNCTIONS.has(name)) {
          out.aggregates.push({ node: n, fn: name, star: false, distinct: t.hasToken(n, 'DISTINCT'), args: t.kids(n, 'functionArgument') });
        }
        for (const c of n.children ?? []) this.walk(c, bound, visible, out, inGraph);
        return;
      }
      default:
        for (const c of n.children ?? []) this.walk(c, bound, visible, out, inGraph);
    }
  }

  /** variables and expressions inside a pattern: outer variables are references */
  private walkPattern(pattern: ParseNode, bound: ReadonlySet<string>, visible: ReadonlySet<string> | Scope, out: ExprFacts): void {
    const t = this.t;
    for (const v of t.find(pattern, 'variable')) {
      const name = this.varName(v);
      if (!bound.has(name) && isVisible(visible, name)) this.ref(name, v, out, true);
    }
    for (const e of t.find(pattern, 'expression')) this.walk(e, bound, visible, out, true);
  }

  private noteFunction(f: ParseNode, out: ExprFacts): void {
    const name = nameParts(this.t.text(this.t.kid(f, 'functionName')!)).join('.');
    const lower = name.toLowerCase();
    if (lower.startsWith('graph.')) out.graphFunctions.push(f);
    else if (!BUILTIN_FUNCTIONS.has(lower)) out.userFunctions.push(name);
  }

  functionName(f: ParseNode): string {
    return nameParts(this.t.text(this.t.kid(f, 'functionName')!))
      .join('.')
      .toLowerCase();
  }

  /**
   * The variables a pattern mentions: `single` ones hold one node or relationship (or a path),
   * `group` ones a list (variable-length relationships, quantified path patterns).
   */
  patternVariables(pattern: ParseNode): { single: string[]; group: string[]; all: string[] } {
    const t = this.t;
    const single: string[] = [];
    const group: string[] = [];
    const visit = (n: ParseNode, inGroup: boolean): void => {
      const rule = t.rule(n);
      if (rule === undefined) return;
      if (rule === 'expression') return; // property maps and inline WHERE: references, not bindings
      if (rule === 'pattern' || rule === 'patternComprehension') {
        // p = (...): a path variable
        const v = t.kid(n, 'variable');
        if (v) (inGroup ? group : single).push(this.varName(v));
      }
      if (rule === 'nodePattern') {
        const v = t.kid(n, 'variable');
        if (v) (inGroup ? group : single).push(this.varName(v));
        return;
      }
      if (rule === 'relationshipPattern') {
        const v = t.kid(n, 'variable');
        const varLength = t.kid(n, 'pathLength') !== undefined;
        if (v) (inGroup || varLength ? group : single).push(this.varName(v));
        return;
      }
      if (rule === 'parenthesizedPath') {
        const quantified = t.kid(n, 'quantifier') !== undefined;
        for (const c of n.children ?? []) visit(c, inGroup || quantified);
        return;
      }
      if (rule === 'patternElement') {
        // a relationship followed by a quantifier: its variable is a group variable
        const kids = n.children ?? [];
        for (let i = 0; i < kids.length; i++) {
          const c = kids[i]!;
          if (t.is(c, 'relationshipPattern') && t.is(kids[i + 1], 'quantifier')) visit(c, true);
          else visit(c, inGroup);
        }
        return;
      }
      for (const c of n.children ?? []) visit(c, inGroup);
    };
    visit(pattern, false);
    return { single: [...new Set(single)], group: [...new Set(group)], all: [...new Set([...single, ...group])] };
  }

  /** the connected components of a pattern list: patterns that share a variable are one component */
  components(patterns: ParseNode[]): { patterns: ParseNode[]; vars: Set<string> }[] {
    const comps: { patterns: ParseNode[]; vars: Set<string> }[] = [];
    for (const p of patterns) {
      const vars = new Set(this.patternVariables(p).all);
      const joined = comps.filter((c) => [...vars].some((v) => c.vars.has(v)));
      const merged = { patterns: [p, ...joined.flatMap((c) => c.patterns)], vars: new Set([...vars, ...joined.flatMap((c) => [...c.vars])]) };
      for (const j of joined) comps.splice(comps.indexOf(j), 1);
      comps.push(merged);
    }
    return comps;
  }
}

function isVisible(visible: ReadonlySet<string> | Scope, name: string): boolean {
  return visible.has(name);
}

/** an entity a shard owns: rows holding it come from that shard */
export function isEntity(kind: VarKind | undefined): boolean {
  return kind === 'entity' || kind === 'nullable-entity';
}

export { GRAPH_READ_RULES };
