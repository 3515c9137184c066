/**
 * Statement analysis for composites (DESIGN §5), on Neo4j's official Cypher grammar: where a
 * statement goes (USE, graph.byName, the graph.names() idiom, or every shard), what each shard is
 * sent (the final RETURN rewritten for decomposed aggregates and pushed-down LIMIT), and how the
 * shards' rows merge. A shape that cannot be merged exactly is refused with the reason.
 */
import { GatewayError } from '../errors/index.js';
import type { TypedValue } from '../transport/types.js';
import type { ParseNode } from './cypher.js';
import type { AggregateFn, MergeSpec, OutputColumn } from './merge.js';

export const FederationRefused = 'Neo.ClientError.Gateway.FederationNotSupported';
export const MultiShardWrite = 'Neo.ClientError.Gateway.MultiShardWrite';
export const NeedsNeo4jCheck = Symbol('needs-neo4j-check');

export const GRAPH_NAMES_PARAM = '__n4gw_graph_names';

export interface PlannedPart {
  /** shard names this part runs on */
  shards: string[];
  /** the statement each shard runs */
  statement: string;
  /** how to merge; undefined: exactly one shard, its answer passes through */
  merge: MergeSpec | undefined;
  writes: boolean;
  /** parameters to add (graph.names()) */
  extraParameters?: Record<string, TypedValue>;
}

export interface Plan {
  parts: PlannedPart[];
  /** how parts combine: UNION (distinct) or UNION ALL; undefined for one part */
  union: 'distinct' | 'all' | undefined;
  writes: boolean;
}

export interface CompositeContext {
  name: string;
  shards: string[];
  /** the shards a shard key selected (default: all) */
  selected: string[];
  parameters: Record<string, TypedValue>;
}

const AGGREGATES = new Set(['count', 'sum', 'avg', 'min', 'max', 'collect', 'stdev', 'stdevp', 'percentilecont', 'percentiledisc']);
const MERGEABLE = new Set<AggregateFn>(['count', 'sum', 'avg', 'min', 'max', 'collect']);
const WRITE_CLAUSES = new Set(['createClause', 'mergeClause', 'setClause', 'removeClause', 'deleteClause', 'foreachClause', 'insertClause', 'subqueryInTransactionsParameters', 'loadCSVClause']);

function refuse(message: string): never {
  throw new GatewayError(FederationRefused, message, { status: 400 });
}

/** a thin view of an ANTLR tree with rule names and source text */
class Tree {
  constructor(
    readonly src: string,
    private readonly ruleNames: string[],
  ) {}

  rule(n: ParseNode): string | undefined {
    return n.ruleIndex === undefined ? undefined : this.ruleNames[n.ruleIndex];
  }

  text(n: ParseNode): string {
    const end = n.stop ? n.stop.stop : n.start.start - 1;
    return this.src.slice(n.start.start, end + 1);
  }

  range(n: ParseNode): [number, number] {
    return [n.start.start, (n.stop ? n.stop.stop : n.start.start - 1) + 1];
  }

  kids(n: ParseNode, name?: string): ParseNode[] {
    const all = n.children ?? [];
    return name === undefined ? all : all.filter((c) => this.rule(c) === name);
  }

  kid(n: ParseNode, name: string): ParseNode | undefined {
    return this.kids(n, name)[0];
  }

  /** terminal tokens directly under n, upper-cased */
  tokens(n: ParseNode): string[] {
    return (n.children ?? []).filter((c) => c.ruleIndex === undefined).map((c) => c.getText().toUpperCase());
  }

  find(n: ParseNode, name: string, out: ParseNode[] = []): ParseNode[] {
    for (const c of n.children ?? []) {
      if (this.rule(c) === name) out.push(c);
      this.find(c, name, out);
    }
    return out;
  }

  hasErrors(n: ParseNode): boolean {
    const anyNode = n as ParseNode & { isErrorNode?: () => boolean; exception?: unknown };
    if (typeof anyNode.isErrorNode === 'function' && anyNode.isErrorNode()) return true;
    if (anyNode.exception) return true;
    return (n.children ?? []).some((c) => this.hasErrors(c));
  }

  /** the single meaningful descendant of an expression chain, if the expression is just that */
  only(n: ParseNode, name: string): ParseNode | undefined {
    let cur: ParseNode | undefined = n;
    while (cur) {
      if (this.rule(cur) === name) return cur;
      const kids: ParseNode[] = cur.children ?? [];
      if (kids.length !== 1) return undefined;
      cur = kids[0];
    }
    return undefined;
  }
}

function normalise(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

function unquote(name: string): string {
  return name.startsWith('`') && name.endsWith('`') ? name.slice(1, -1).replace(/``/g, '`') : name;
}

/** applies [start, end, replacement] edits to a text (non-overlapping) */
function edit(src: string, edits: [number, number, string][]): string {
  let out = src;
  for (const [s, e, r] of [...edits].sort((a, b) => b[0] - a[0])) out = out.slice(0, s) + r + out.slice(e);
  return out;
}

function intParam(tree: Tree, expr: ParseNode, params: Record<string, TypedValue>, what: string): number {
  const lit = tree.only(expr, 'numberLiteral');
  if (lit) {
    const n = Number(tree.text(lit));
    if (Number.isInteger(n) && n >= 0) return n;
  }
  const p = tree.only(expr, 'parameter');
  if (p) {
    const name = unquote(tree.text(p).slice(1));
    const v = params[name];
    if (v && v.$type === 'Integer' && Number(v._value) >= 0) return Number(v._value);
    if (v === undefined) throw new GatewayError('Neo.ClientError.Statement.ParameterMissing', `Expected parameter(s): ${name}`, { status: 400 });
  }
  refuse(`${what} on a composite must be a non-negative integer literal or parameter, not '${tree.text(expr)}'.`);
}

/** the statement is the graph.names() idiom: plan this equivalent text instead */
export class RewriteTo {
  constructor(
    readonly statement: string,
    readonly shards: string[],
  ) {}
}

export class Analyzer {
  private readonly tree: Tree;
  private singleCount = 1;
  constructor(
    src: string,
    ruleNames: string[],
    private readonly ctx: CompositeContext,
  ) {
    this.tree = new Tree(src, ruleNames);
  }

  /** resolves a graph reference (USE x / graph.byName(...)) to a shard of the composite */
  private shardOf(ref: ParseNode): string | 'composite' {
    const t = this.tree;
    const fn = t.find(ref, 'functionInvocation')[0];
    let name: string;
    if (fn) {
      const fname = normalise(t.text(t.kid(fn, 'functionName')!)).toLowerCase();
      if (fname !== 'graph.byname') refuse(`USE ${t.text(ref)} is not supported: use composite.shard or graph.byName(...)`);
      const arg = t.kid(fn, 'functionArgument');
      if (!arg) refuse('graph.byName() needs an argument.');
      const str = t.find(arg, 'stringLiteral')[0];
      const param = t.find(arg, 'parameter')[0];
      if (str && normalise(t.text(arg)) === normalise(t.text(str))) name = t.text(str).slice(1, -1);
      else if (param && normalise(t.text(arg)) === normalise(t.text(param))) {
        const v = this.ctx.parameters[unquote(t.text(param).slice(1))];
        if (!v || v.$type !== 'String') refuse(`graph.byName(${t.text(param)}) needs a string parameter.`);
        name = v._value;
      } else refuse(`graph.byName(${t.text(arg)}) is supported with a string literal or parameter only.`);
    } else {
      name = t.text(ref).split('.').map((p) => unquote(p.trim())).join('.');
    }
    if (name === this.ctx.name) return 'composite';
    const prefix = `${this.ctx.name}.`;
    const local = name.startsWith(prefix) ? name.slice(prefix.length) : name;
    if (!this.ctx.shards.includes(local)) {
      throw new GatewayError('Neo.ClientError.Database.DatabaseNotFound', `Graph not found: ${name}. The graphs of composite '${this.ctx.name}' are: ${this.ctx.shards.map((s) => `${this.ctx.name}.${s}`).join(', ')}.`, { status: 404 });
    }
    return local;
  }

  plan(statementNode: ParseNode): Plan {
    const t = this.tree;
    if (t.hasErrors(statementNode)) throw NeedsNeo4jCheck;
    const regular = t.find(statementNode, 'regularQuery')[0];
    const union = regular ? t.kid(regular, 'union') : undefined;
    if (!regular || !union) {
      // not a query (administration, SHOW, ...): not something a composite federates
      refuse('Only queries can run on a composite; administration commands need a shard.');
    }
    if (t.find(regular, 'when').length > 0) refuse('Conditional queries (WHEN) are not supported on composites.');
    const singles = t.kids(union, 'singleQuery');
    this.singleCount = singles.length;
    const toks = t.tokens(union);
    const partsPlanned = singles.map((sq) => this.planSingle(sq));
    const writes = partsPlanned.some((p) => p.writes);
    let unionKind: Plan['union'];
    if (singles.length > 1) unionKind = toks.includes('ALL') ? 'all' : 'distinct';
    if (writes) {
      const touched = new Set(partsPlanned.flatMap((p) => p.shards));
      if (touched.size > 1) {
        throw new GatewayError(
          MultiShardWrite,
          `A write on composite '${this.ctx.name}' must go to exactly one shard (as in Neo4j composite databases): name it with USE ${this.ctx.name}.<shard> or select it with a shard key. This statement would write to ${[...touched].join(', ')}.`,
          { status: 400 },
        );
      }
    }
    return { parts: partsPlanned, union: unionKind, writes };
  }

  private planSingle(sq: ParseNode): PlannedPart {
    const t = this.tree;
    const [qs, qe] = t.range(sq);
    const clauses = t.kids(sq, 'clause').map((c) => (c.children ?? [])[0]!).filter(Boolean);
    const edits: [number, number, string][] = [];
    let shards = this.ctx.selected;
    const writes = [...WRITE_CLAUSES].some((w) => t.find(sq, w).length > 0);

    // a leading USE names one shard (or the composite itself)
    const first = clauses[0];
    if (first && t.rule(first) === 'useClause') {
      const target = this.shardOf(t.kid(first, 'graphReference')!);
      if (target !== 'composite') shards = [target];
      const [s, e] = t.range(first);
      edits.push([s, e, '']);
    }

    // the composite idiom: UNWIND graph.names() AS g CALL { USE graph.byName(g) ... } RETURN ...
    // is the union over shards of the subquery, then the outer RETURN: the same as fanning out
    // CALL { <subquery without USE> } RETURN ... and merging. Planned again on that text.
    const idiom = this.idiom(clauses, first && t.rule(first) === 'useClause' ? 1 : 0);
    if (idiom) {
      if (this.singleCount > 1) refuse('The graph.names() idiom cannot be part of a UNION.');
      throw new RewriteTo(`CALL { ${idiom.innerText} } ${t.src.slice(idiom.restStart, qe)}`.trim(), shards);
    }

    // other USE clauses (inside subqueries) would need a per-row router: refuse
    const nestedUse = t.find(sq, 'useClause').filter((u) => u !== first);
    if (nestedUse.length > 0) refuse(`USE inside a subquery is supported only in the form UNWIND graph.names() AS g CALL { USE graph.byName(g) ... } RETURN ...`);

    // graph.names() outside the idiom: answered from the topology, on one shard
    const extraParameters: Record<string, TypedValue> = {};
    const useRange = first && t.rule(first) === 'useClause' ? t.range(first) : undefined;
    for (const fn of t.find(sq, 'functionInvocation')) {
      if (useRange && t.range(fn)[0] >= useRange[0] && t.range(fn)[1] <= useRange[1]) continue;
      const fname = normalise(t.text(t.kid(fn, 'functionName')!)).toLowerCase();
      if (fname === 'graph.names') {
        if (t.find(sq, 'matchClause').length > 0 || t.find(sq, 'callClause').length > 0) refuse('graph.names() is supported in the UNWIND graph.names() ... CALL { USE graph.byName(...) } idiom, or in statements that read no data.');
        edits.push([...t.range(fn), `$${GRAPH_NAMES_PARAM}`]);
        extraParameters[GRAPH_NAMES_PARAM] = { $type: 'List', _value: this.ctx.shards.map((s) => ({ $type: 'String', _value: `${this.ctx.name}.${s}` })) };
        shards = [shards[0]!];
      } else if (fname === 'graph.byname' || fname === 'graph.propertiesbyname') {
        refuse(`${t.text(t.kid(fn, 'functionName')!)}() is supported only in USE clauses.`);
      }
    }

    if (shards.length === 1) {
      return { shards, statement: this.sliceEdited(edits, qs, qe), merge: undefined, writes, ...(Object.keys(extraParameters).length ? { extraParameters } : {}) };
    }
    const planned = this.rewriteAndMerge(sq, clauses, shards, edits, writes);
    return planned;
  }

  private idiom(clauses: ParseNode[], from: number): { innerText: string; restStart: number; restIndex: number } | undefined {
    const t = this.tree;
    const unwind = clauses[from];
    const call = clauses[from + 1];
    if (!unwind || !call || t.rule(unwind) !== 'unwindClause' || t.rule(call) !== 'subqueryClause') return undefined;
    const expr = t.kid(unwind, 'expression');
    const fn = expr ? t.only(expr, 'functionInvocation') : undefined;
    if (!fn || normalise(t.text(t.kid(fn, 'functionName')!)).toLowerCase() !== 'graph.names') return undefined;
    const variable = normalise(t.text(t.kid(unwind, 'variable')!));
    const innerQuery = t.kid(call, 'regularQuery');
    const innerSingles = innerQuery ? t.kids(t.kid(innerQuery, 'union')!, 'singleQuery') : [];
    if (innerSingles.length !== 1) refuse('In the graph.names() idiom, the CALL subquery must be one query (no UNION).');
    const inner = innerSingles[0]!;
    const innerClauses = t.kids(inner, 'clause').map((c) => (c.children ?? [])[0]!);
    const use = innerClauses[0];
    if (!use || t.rule(use) !== 'useClause') refuse('In the graph.names() idiom, the CALL subquery must start with USE graph.byName(<variable>).');
    const ref = t.kid(use, 'graphReference')!;
    if (normalise(t.text(ref)).replace(/\s/g, '').toLowerCase() !== `graph.byname(${variable.toLowerCase()})`) refuse(`In the graph.names() idiom, the subquery must USE graph.byName(${variable}).`);
    const innerText = t.src.slice(t.range(use)[1], t.range(inner)[1]);
    if (new RegExp(`\\b${variable}\\b`).test(innerText)) refuse(`In the graph.names() idiom, the subquery may use '${variable}' only in its USE clause.`);
    const restIndex = from + 2;
    const next = clauses[restIndex];
    return { innerText: innerText.trim(), restStart: next ? t.range(next)[0] : t.range(call)[1], restIndex };
  }

  private rewriteAndMerge(sq: ParseNode, clauses: ParseNode[], shards: string[], edits: [number, number, string][], writes: boolean): PlannedPart {
    const t = this.tree;
    const [qs, qe] = t.range(sq);
    const last = clauses[clauses.length - 1];
    if (!last || t.rule(last) !== 'returnClause') {
      if (writes) return { shards, statement: this.sliceEdited(edits, qs, qe), merge: undefined, writes };
      refuse('A query that fans out over a composite must end with RETURN.');
    }
    // clauses before the final RETURN must be row-local: each shard can run them on its own data
    for (const c of clauses.slice(0, -1)) {
      if (t.rule(c) !== 'withClause') continue;
      const body = t.kid(c, 'returnBody')!;
      if (t.tokens(body).includes('DISTINCT')) refuse('WITH DISTINCT before the final RETURN cannot be federated: shards cannot de-duplicate across each other. Move DISTINCT to the RETURN.');
      if (t.kid(body, 'skip') || t.kid(body, 'limit')) refuse('SKIP/LIMIT before the final RETURN cannot be federated: each shard would cut its own rows. Move them to the RETURN.');
      if (this.aggregatesIn(body).length > 0) refuse('Aggregation before the final RETURN cannot be federated exactly (it would aggregate each shard apart). Aggregate in the RETURN.');
    }
    const body = t.kid(last, 'returnBody')!;
    const distinct = t.tokens(body).includes('DISTINCT');
    const itemsNode = t.kid(body, 'returnItems')!;
    if (t.tokens(itemsNode).includes('*')) {
      if (t.kid(body, 'orderBy') || distinct || this.aggregatesIn(body).length > 0) refuse('RETURN * with DISTINCT, ORDER BY or aggregates cannot be federated; name the columns.');
    }
    const items = t.kids(itemsNode, 'returnItem').map((it) => {
      const expr = t.kid(it, 'expression')!;
      const alias = t.kid(it, 'variable');
      return { node: it, expr, exprText: normalise(t.text(expr)), name: alias ? unquote(t.text(alias)) : t.text(expr) };
    });
    const skipNode = t.kid(body, 'skip');
    const limitNode = t.kid(body, 'limit');
    const skip = skipNode ? intParam(t, t.kid(skipNode, 'expression')!, this.ctx.parameters, 'SKIP') : 0;
    const limit = limitNode ? intParam(t, t.kid(limitNode, 'expression')!, this.ctx.parameters, 'LIMIT') : undefined;
    const orderBy = t.kid(body, 'orderBy');
    // ORDER BY on an expression that is not a returned column (RETURN p ORDER BY p.id) becomes a
    // hidden column the shards return and the gateway sorts on, then drops
    const hidden: string[] = [];
    const aggregatingReturn = items.some((i) => this.aggregatesIn(i.expr).length > 0);
    const order = orderBy
      ? t.kids(orderBy, 'orderItem').map((oi) => {
          const exprNode = t.kid(oi, 'expression')!;
          const text = normalise(t.text(exprNode));
          let index = items.findIndex((i) => i.name === text || normalise(i.name) === text || i.exprText === text);
          if (index < 0) {
            if (distinct || aggregatingReturn || this.aggregatesIn(exprNode).length > 0) {
              refuse(`ORDER BY ${text} on a composite must name a returned column (by its alias or expression) when the RETURN is DISTINCT or aggregates.`);
            }
            index = items.length + hidden.length;
            hidden.push(t.text(exprNode));
          }
          const desc = !!(t.kid(oi, 'descToken') || t.tokens(oi).some((k) => k === 'DESC' || k === 'DESCENDING'));
          return { index, desc };
        })
      : [];

    // aggregates: each must be a whole return item, one of the mergeable functions, without DISTINCT
    const outputs: OutputColumn[] = [];
    const shardItems: string[] = [];
    let aggregating = false;
    items.forEach((item, i) => {
      const aggs = this.aggregatesIn(item.expr);
      if (aggs.length === 0) {
        outputs.push({ kind: 'value', src: shardItems.length });
        shardItems.push(`${t.text(item.expr)} AS \`__c${i}\``);
        return;
      }
      aggregating = true;
      const agg = aggs[0]!;
      if (aggs.length > 1 || normalise(t.text(agg.node)) !== item.exprText) {
        refuse(`'${item.exprText}': an aggregate inside a larger expression cannot be combined across shards. Return the aggregate itself and compute in the client.`);
      }
      if (!MERGEABLE.has(agg.fn as AggregateFn)) {
        refuse(`${agg.fn}() cannot be combined exactly from per-shard results (percentiles and standard deviations need every value in one place).`);
      }
      if (agg.distinct) refuse(`${agg.fn}(DISTINCT ...) cannot be combined from per-shard results: the same value may be counted on several shards.`);
      const fn = agg.fn as AggregateFn;
      if (fn === 'avg') {
        const arg = t.text(agg.arg!);
        outputs.push({ kind: 'aggregate', fn, src: shardItems.length, src2: shardItems.length + 1 });
        shardItems.push(`sum(${arg}) AS \`__c${i}s\``, `count(${arg}) AS \`__c${i}n\``);
      } else {
        outputs.push({ kind: 'aggregate', fn, src: shardItems.length });
        shardItems.push(`${t.text(agg.node)} AS \`__c${i}\``);
      }
    });

    hidden.forEach((expr, k) => {
      outputs.push({ kind: 'value', src: shardItems.length });
      shardItems.push(`${expr} AS \`__c${items.length + k}\``);
    });
    const columns = items.map((i) => i.name);
    let returnText: string;
    let shardsSorted = false;
    if (aggregating) {
      // groups span shards: shards return every group; ORDER BY / SKIP / LIMIT apply after combining
      returnText = `RETURN ${shardItems.join(', ')}`;
    } else if (t.tokens(itemsNode).includes('*')) {
      // RETURN *: the columns are whatever the shards return; rows concatenate, LIMIT pushes down
      const [ls, le] = t.range(last);
      const cut = skipNode ?? limitNode;
      returnText = cut ? t.src.slice(ls, t.range(cut)[0]) + (limit !== undefined ? ` LIMIT ${skip + limit}` : '') : t.text(last);
      const merge: MergeSpec = { columns: [], columnsFromShards: true, outputs: [], aggregating: false, distinct: false, order: [], shardsSorted: false, skip, limit };
      return { shards, statement: this.sliceEdited([...edits, [ls, le, returnText]], qs, qe), merge, writes };
    } else {
      const orderText = orderBy ? ` ORDER BY ${t.kids(orderBy, 'orderItem').map((oi, k) => `\`__c${order[k]!.index}\`${order[k]!.desc ? ' DESC' : ''}`).join(', ')}` : '';
      shardsSorted = order.length > 0;
      // LIMIT pushes down as SKIP+LIMIT per shard, except under DISTINCT (a shard's top rows may be duplicates of another's)
      const pushLimit = limit !== undefined && !distinct ? ` LIMIT ${skip + limit}` : '';
      returnText = `RETURN ${distinct ? 'DISTINCT ' : ''}${shardItems.join(', ')}${orderText}${pushLimit}`;
    }
    const [ls, le] = t.range(last);
    const statement = this.sliceEdited([...edits, [ls, le, returnText]], qs, qe);
    return {
      shards,
      statement,
      merge: { columns, outputs, aggregating, distinct, order, shardsSorted, skip, limit, ...(hidden.length > 0 ? { visible: items.length } : {}) },
      writes,
    };
  }

  private sliceEdited(edits: [number, number, string][], qs: number, qe: number): string {
    const inside = edits.filter(([s, e]) => s >= qs && e <= qe).map(([s, e, r]) => [s - qs, e - qs, r] as [number, number, string]);
    return edit(this.tree.src.slice(qs, qe), inside).trim();
  }

  private aggregatesIn(n: ParseNode): { node: ParseNode; fn: string; distinct: boolean; arg: ParseNode | undefined }[] {
    const t = this.tree;
    const out: { node: ParseNode; fn: string; distinct: boolean; arg: ParseNode | undefined }[] = [];
    for (const cs of t.find(n, 'countStar')) out.push({ node: cs, fn: 'count', distinct: false, arg: undefined });
    for (const fn of t.find(n, 'functionInvocation')) {
      const name = normalise(t.text(t.kid(fn, 'functionName')!)).toLowerCase();
      if (!AGGREGATES.has(name)) continue;
      out.push({ node: fn, fn: name === 'stdev' ? 'stDev' : name, distinct: t.tokens(fn).includes('DISTINCT'), arg: t.kid(fn, 'functionArgument') });
    }
    // aggregates inside COUNT { } / COLLECT { } / EXISTS { } subqueries are local to each row
    const local = [...t.find(n, 'countExpression'), ...t.find(n, 'collectExpression'), ...t.find(n, 'existsExpression')];
    return out.filter((a) => !local.some((l) => t.range(a.node)[0] >= t.range(l)[0] && t.range(a.node)[1] <= t.range(l)[1]));
  }
}
