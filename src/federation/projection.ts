/**
 * Reading a composite query's projections (WITH and RETURN) the way Cypher resolves them: their
 * items and column names, ORDER BY, SKIP/LIMIT and WHERE, whether they aggregate or de-duplicate
 * and whether that is shard-complete (grouped by an entity) or a merge point, and which column an
 * ORDER BY key names. Planning the merge from them: projection-plan.ts.
 */
import { stringLiteralValue } from '../cypher/classify.js';
import type { ParseNode } from '../cypher/grammar.js';
import { type Tree, unquote } from '../cypher/tree.js';
import type { AggregateName } from '../values/aggregate.js';
import type { IntSource, ValueSource } from './plan.js';
import type { ExprReader, ExprFacts, Scope } from './scope.js';
import { ident } from './text-edits.js';
import { refuse } from './refusal.js';

export interface ProjItem {
  expr: ParseNode;
  /** the column name: the alias, or the expression as written */
  name: string;
  /** the expression's source text ("x" for a star item) */
  text: string;
  facts: ExprFacts;
  /** the item is a bare variable */
  bareVar: string | undefined;
  aggregating: boolean;
}

export interface OrderItem {
  expr: ParseNode;
  desc: boolean;
}

export interface Projection {
  clause: ParseNode;
  body: ParseNode;
  isReturn: boolean;
  distinct: boolean;
  items: ProjItem[];
  order: OrderItem[];
  skip: ParseNode | undefined;
  limit: ParseNode | undefined;
  where: ParseNode | undefined;
  aggregating: boolean;
  /** grouping keys (aggregation) or columns (DISTINCT) include an entity: every group lies in one shard */
  entityKeyed: boolean;
  /** row-local: each shard computes it on its own rows; otherwise a merge point */
  kind: 'row-local' | 'merge';
  /** why it is a merge point */
  reason: string;
  scopeBefore: Scope;
  scopeAfter: Scope;
}

const norm = (s: string) => s.replace(/\s+/g, '');

/** reads a WITH or RETURN clause */
export function readProjection(t: Tree, x: ExprReader, clause: ParseNode, scope: Scope): Projection {
  const body = t.kid(clause, 'returnBody')!;
  const itemsNode = t.kid(body, 'returnItems')!;
  const star = t.hasToken(itemsNode, '*');
  const items: ProjItem[] = [];
  if (star) {
    // RETURN * / WITH *: every variable in scope, in the order Neo4j gives (by name, code units)
    for (const name of [...scope.keys()].filter((n) => !n.startsWith('  ')).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
      items.push({
        expr: itemsNode,
        name,
        text: ident(name),
        facts: {
          refs: new Map([[name, []]]),
          graphReads: [],
          aggregates: [],
          userFunctions: [],
          graphFunctions: [],
          pinnedRefs: new Set(),
          refsInGraphReads: new Set(),
        },
        bareVar: name,
        aggregating: false,
      });
    }
  }
  for (const it of t.kids(itemsNode, 'returnItem')) {
    const expr = t.kid(it, 'expression')!;
    const alias = t.kid(it, 'variable');
    const facts = x.facts(expr, scope);
    const v = t.only(expr, 'variable');
    items.push({
      expr,
      name: alias ? x.varName(alias) : t.text(expr),
      text: t.text(expr),
      facts,
      bareVar: v ? x.varName(v) : undefined,
      aggregating: facts.aggregates.length > 0,
    });
  }
  const orderNode = t.kid(body, 'orderBy');
  const order = orderNode ? t.kids(orderNode, 'orderItem').map((oi) => ({ expr: t.kid(oi, 'expression')!, desc: t.kid(oi, 'descToken') !== undefined })) : [];
  const skipNode = t.kid(body, 'skip');
  const limitNode = t.kid(body, 'limit');
  const whereNode = t.kid(clause, 'whereClause');
  const distinct = t.hasToken(body, 'DISTINCT');
  const aggregating = items.some((i) => i.aggregating);
  const entityKeyed = aggregating
    ? items.some((i) => !i.aggregating && i.bareVar !== undefined && scope.get(i.bareVar) === 'entity')
    : distinct && items.some((i) => i.bareVar !== undefined && scope.get(i.bareVar) === 'entity');
  const reasons: string[] = [];
  if (aggregating && !entityKeyed) reasons.push('it aggregates rows of several shards');
  if (distinct && !aggregating && !entityKeyed) reasons.push('DISTINCT compares rows of several shards');
  if (order.length > 0) reasons.push('ORDER BY orders rows of several shards');
  if (skipNode || limitNode) reasons.push('SKIP/LIMIT count rows of several shards');
  const scopeAfter: Scope = star ? new Map(scope) : new Map();
  for (const i of items) scopeAfter.set(i.name, i.bareVar !== undefined && !i.aggregating ? (scope.get(i.bareVar) ?? 'value') : 'value');
  // DISTINCT / aggregation keep an entity grouping key non-null only where it was
  return {
    clause,
    body,
    isReturn: t.is(clause, 'returnClause'),
    distinct,
    items,
    order,
    skip: skipNode ? t.kid(skipNode, 'expression') : undefined,
    limit: limitNode ? t.kid(limitNode, 'expression') : undefined,
    where: whereNode ? t.kid(whereNode, 'expression') : undefined,
    aggregating,
    entityKeyed,
    kind: reasons.length === 0 ? 'row-local' : 'merge',
    reason: reasons.join('; '),
    scopeBefore: scope,
    scopeAfter,
  };
}

const AGG_NAMES: Record<string, AggregateName> = {
  count: 'count',
  sum: 'sum',
  avg: 'avg',
  min: 'min',
  max: 'max',
  collect: 'collect',
  stdev: 'stDev',
  stdevp: 'stDevP',
  percentilecont: 'percentileCont',
  percentiledisc: 'percentileDisc',
};

/** an aggregate standing alone as an item of a projection */
export interface AggregateItem {
  item: number;
  fn: AggregateName;
  distinct: boolean;
  star: boolean;
  arg: ParseNode | undefined;
  percentile: ParseNode | undefined;
}

/** the column an ORDER BY key names: an alias (aliases win), or the text of an item's expression */
export function keyColumn(t: Tree, x: ExprReader, p: Projection, e: ParseNode): number | undefined {
  const v = t.only(e, 'variable');
  if (v) {
    const name = x.varName(v);
    const i = p.items.findIndex((it) => it.name === name);
    if (i >= 0) return i;
  }
  const text = norm(t.text(e));
  const j = p.items.findIndex((it) => norm(it.text) === text);
  return j >= 0 ? j : undefined;
}

/** an aggregating projection's items: grouping keys, and aggregates each standing alone */
export function aggregateItems(t: Tree, p: Projection, composite: string): { groups: number[]; aggs: AggregateItem[] } {
  const groups: number[] = [];
  const aggs: AggregateItem[] = [];
  p.items.forEach((it, i) => {
    if (!it.aggregating) {
      groups.push(i);
      return;
    }
    const a = it.facts.aggregates;
    if (a.length !== 1 || norm(t.text(a[0]!.node)) !== norm(it.text)) {
      refuse(
        `'${it.text}': an aggregate inside a larger expression over several shards is not supported on composites; return the aggregate itself and compute the rest in the client, or ${'use USE ' + composite + '.<shard>'}.`,
      );
    }
    const call = a[0]!;
    const fn = AGG_NAMES[call.fn];
    if (!fn) refuse(`${call.fn}() cannot be combined across shards.`);
    const argNode = call.args[0] ? t.kid(call.args[0], 'expression') : undefined;
    const pct = call.args[1] ? t.kid(call.args[1], 'expression') : undefined;
    aggs.push({ item: i, fn, distinct: call.distinct, star: call.star, arg: argNode, percentile: pct });
  });
  return { groups, aggs };
}

/** a SKIP or LIMIT: an integer literal or a parameter (as the merge pipeline reads it) */
export function intSource(t: Tree, e: ParseNode, what: string): IntSource {
  const lit = t.only(e, 'numberLiteral');
  if (lit && /^\d+$/.test(t.text(lit).trim())) return { kind: 'literal', value: t.text(lit).trim() };
  const p = t.only(e, 'parameter');
  if (p) return { kind: 'param', name: unquote(t.text(t.kid(p, 'parameterName')!)) };
  refuse(`${what} ${t.text(e)}: on a composite, SKIP and LIMIT must be an integer literal or a parameter.`);
}

/** a percentile argument: a literal or a parameter */
export function valueSource(t: Tree, e: ParseNode, what: string): ValueSource {
  const lit = t.only(e, 'numberLiteral');
  if (lit) {
    const text = t.text(lit).trim();
    return /^-?\d+$/.test(text)
      ? { kind: 'literal', value: { $type: 'Integer', _value: text } }
      : { kind: 'literal', value: { $type: 'Float', _value: String(Number(text)) } };
  }
  const p = t.only(e, 'parameter');
  if (p) return { kind: 'param', name: unquote(t.text(t.kid(p, 'parameterName')!)) };
  const s = t.only(e, 'stringLiteral');
  if (s) return { kind: 'literal', value: { $type: 'String', _value: stringLiteralValue(t.text(s)) } };
  refuse(`${what}: on a composite, the percentile must be a literal or a parameter.`);
}
