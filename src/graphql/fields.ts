/**
 * Loads the @cypher fields of a GraphQL schema and decides, once, how each runs: checked when
 * the schema loads with the same statement analysis and composite planner as REST, so a field
 * either runs exactly or the gateway refuses to start, naming the field and the reason. A nested
 * field is batched: one statement per shard per nesting level runs the field's statement once per
 * parent (`CALL (parent) { ... }`), and over a composite the REST plan's merges run per parent.
 */
import { GraphQLObjectType, isListType, isNonNullType, type GraphQLField, type GraphQLSchema } from 'graphql';
import type { Topology } from '../config/schema.js';
import { ConfigError } from '../config/load.js';
import type { StatementAnalyzer } from '../cypher/analyzer.js';
import { parameterName } from '../cypher/classify.js';
import type { ParseNode } from '../cypher/grammar.js';
import type { Tree } from '../cypher/tree.js';
import { unquote } from '../cypher/tree.js';
import type { Plan, ShardStatement } from '../federation/plan.js';
import { CompositePlanner } from '../federation/planner.js';
import { ident } from '../federation/text-edits.js';
import type { AccessMode } from '../transport/types.js';

export const PARENTS_PARAM = '__n4gw_parents';
const PARENT_VAR = '__n4gw_parent';
const INDEX_VAR = '__n4gw_i';

/** how a nested field runs for every parent of a level at once */
export type BatchPlan =
  /** the field's database is a shard: this statement returns [parent index, value] rows */
  | { kind: 'shard'; text: string }
  /** a composite: the REST plan of the field's statement, with each shard's statement run per parent (first column: the parent index) */
  | { kind: 'composite'; plan: Plan & { kind: 'single' | 'once' | 'fanout' }; columns: string[] | undefined };

export interface CypherField {
  typeName: string;
  fieldName: string;
  statement: string;
  database: string;
  mode: AccessMode;
  /** the one column the statement returns */
  column: string;
  list: boolean;
  nonNull: boolean;
  /** a field of Query or Mutation (not nested) */
  root: boolean;
  batch: BatchPlan | undefined;
  /** shards the database spans (cost) */
  width: number;
}

/** the single column of a statement's final RETURN (every UNION part), or a problem */
function returnColumn(tree: Tree, body: ParseNode): { name: string; aliased: boolean } | string {
  const union = tree.kid(tree.kid(body, 'regularQuery') ?? body, 'union');
  if (!union) return 'must be a query ending in RETURN';
  let out: { name: string; aliased: boolean } | undefined;
  for (const sq of tree.kids(union, 'singleQuery')) {
    const clauses = tree.kids(sq, 'clause').map((c) => (c.children ?? [])[0]!);
    const last = clauses[clauses.length - 1];
    if (!last || !tree.is(last, 'returnClause')) return 'must end with RETURN (one column)';
    const items = tree.kid(tree.kid(last, 'returnBody')!, 'returnItems')!;
    const list = tree.kids(items, 'returnItem');
    if (tree.hasToken(items, '*') || list.length !== 1)
      return `must return exactly one column, returns ${tree.hasToken(items, '*') ? 'RETURN *' : list.length}`;
    const item = list[0]!;
    const alias = tree.kid(item, 'variable');
    const expr = tree.kid(item, 'expression')!;
    const v = tree.only(expr, 'variable');
    out ??= alias ? { name: unquote(tree.text(alias)), aliased: true } : { name: tree.text(expr), aliased: v !== undefined };
  }
  return out ?? 'must end with RETURN (one column)';
}

export class FieldLoader {
  private readonly problems: string[] = [];

  constructor(
    private readonly topology: Topology,
    private readonly analyzer: StatementAnalyzer,
  ) {}

  /** every @cypher field of the schema; throws ConfigError listing every problem */
  async load(schema: GraphQLSchema): Promise<Map<string, CypherField>> {
    const fields = new Map<string, CypherField>();
    const mutationType = schema.getMutationType();
    for (const type of Object.values(schema.getTypeMap())) {
      if (!(type instanceof GraphQLObjectType) || type.name.startsWith('__')) continue;
      for (const field of Object.values(type.getFields()) as GraphQLField<unknown, unknown>[]) {
        const dir = field.astNode?.directives?.find((d) => d.name.value === 'cypher');
        if (!dir) continue;
        const where = `graphql: ${type.name}.${field.name}`;
        const arg = (name: string) => {
          const a = dir.arguments?.find((x) => x.name.value === name)?.value;
          return a && (a.kind === 'StringValue' || a.kind === 'EnumValue') ? a.value : undefined;
        };
        const isMutation = type === mutationType;
        const root = type === schema.getQueryType() || isMutation;
        const f = await this.field(where, {
          typeName: type.name,
          fieldName: field.name,
          statement: arg('statement')!,
          database: arg('database')!,
          mode: (arg('mode') ?? (isMutation ? 'WRITE' : 'READ')) as AccessMode,
          isMutation,
          root,
          list: isListType(isNonNullType(field.type) ? field.type.ofType : field.type),
          nonNull: isNonNullType(field.type),
        });
        if (f) fields.set(`${type.name}.${field.name}`, f);
      }
    }
    if (this.problems.length > 0) throw new ConfigError(this.problems);
    return fields;
  }

  private problem(where: string, message: string): undefined {
    this.problems.push(`${where}: ${message}`);
    return undefined;
  }

  private async field(
    where: string,
    d: {
      typeName: string;
      fieldName: string;
      statement: string;
      database: string;
      mode: AccessMode;
      isMutation: boolean;
      root: boolean;
      list: boolean;
      nonNull: boolean;
    },
  ): Promise<CypherField | undefined> {
    const t = this.topology;
    const composite = Object.hasOwn(t.composites, d.database) ? t.composites[d.database]! : undefined;
    if (!Object.hasOwn(t.shards, d.database) && !composite) return this.problem(where, `unknown database "${d.database}"`);
    if (d.mode === 'WRITE' && !d.isMutation) return this.problem(where, 'only Mutation fields may use mode WRITE');
    let analysis;
    try {
      analysis = await this.analyzer.analyze(d.statement);
    } catch (err) {
      return this.problem(where, (err as Error).message);
    }
    if (!analysis.ok)
      return this.problem(where, `the @cypher statement is not a single Cypher statement the gateway understands (${analysis.failure.message})`);
    const info = analysis.info;
    if (info.kind === 'command') return this.problem(where, '@cypher statements must be queries, not commands');
    if (info.explain || info.profile) return this.problem(where, '@cypher statements cannot be EXPLAIN or PROFILE');
    if (d.mode === 'READ' && (info.writes || info.inTransactions)) {
      return this.problem(
        where,
        `a ${d.isMutation ? 'Mutation field declared mode: READ' : 'Query or nested field'} may not write, but its statement does (CREATE, MERGE, SET, REMOVE, DELETE, FOREACH or CALL { } IN TRANSACTIONS); make it a Mutation field with mode WRITE`,
      );
    }
    const parsed = await this.analyzer.parseTree(d.statement);
    if (!parsed) return this.problem(where, 'the @cypher statement could not be parsed');
    const body = parsed.tree.kid(parsed.tree.kid(parsed.statement, 'preparsedStatement')!, 'statement')!;
    const col = returnColumn(parsed.tree, body);
    if (typeof col === 'string') return this.problem(where, `@cypher statement ${col}`);
    const parents = parsed.tree.find(body, 'parameter').filter((p) => parameterName(parsed.tree, p) === 'parent');
    const width = composite ? composite.shards.length : 1;
    const base = {
      typeName: d.typeName,
      fieldName: d.fieldName,
      statement: d.statement,
      database: d.database,
      mode: d.mode,
      column: col.name,
      list: d.list,
      nonNull: d.nonNull,
      root: d.root,
      width,
    };
    if (d.root) {
      if (composite && d.mode === 'READ') {
        // a read over a composite runs exactly as REST would: refused now rather than on every request
        const outcome = new CompositePlanner(parsed.tree, info, { name: d.database, shards: composite.shards }).plan(parsed.statement);
        if (!outcome.ok) return this.problem(where, outcome.refusal.message);
      }
      return { ...base, batch: undefined };
    }
    // a nested field: batched per level
    if (parents.length === 0)
      return this.problem(where, 'a nested @cypher field should use $parent (the parent object), or it returns the same for every parent');
    if (!col.aliased)
      return this.problem(
        where,
        `give the returned column an alias (RETURN ${col.name} AS value): nested fields run inside CALL { }, where Neo4j requires one`,
      );
    if (info.cypherOptions) return this.problem(where, 'nested @cypher statements cannot carry CYPHER options');
    if (d.mode === 'WRITE') return this.problem(where, 'nested fields are read: only Mutation fields write');
    if (!composite) {
      if (info.uses.length > 0) return this.problem(where, `USE is not needed in a field of database "${d.database}" (the field names its database)`);
      const text = await this.batched(where, d.statement, [col.name]);
      return text === undefined ? undefined : { ...base, batch: { kind: 'shard', text } };
    }
    const outcome = new CompositePlanner(parsed.tree, info, { name: d.database, shards: composite.shards }).plan(parsed.statement);
    if (!outcome.ok) return this.problem(where, `cannot be batched exactly over composite "${d.database}": ${outcome.refusal.message}`);
    const plan = outcome.planned.plan;
    if (plan.kind === 'union')
      return this.problem(where, `a nested field over composite "${d.database}" cannot combine UNION parts per parent; use a shard, or a root field`);
    const columns = plan.kind === 'fanout' ? plan.shardColumns : [col.name];
    const text = await this.batched(where, plan.statement.text, columns);
    if (text === undefined) return undefined;
    const statement: ShardStatement = { text, extra: plan.statement.extra };
    return { ...base, batch: { kind: 'composite', plan: { ...plan, statement }, columns: outcome.planned.columns } };
  }

  /**
   * `statement` (with $parent) run once per parent of a level: the parents arrive as one list
   * parameter; each row starts with its parent's index.
   */
  private async batched(where: string, statement: string, columns: string[]): Promise<string | undefined> {
    const parsed = await this.analyzer.parseTree(statement);
    if (!parsed) return this.problem(where, 'the batched statement could not be parsed');
    const t = parsed.tree;
    const params = t.find(parsed.statement, 'parameter').filter((p) => parameterName(t, p) === 'parent');
    const calls = t.find(parsed.statement, 'subqueryClause');
    if (params.some((p) => calls.some((c) => t.within(p, c)))) {
      return this.problem(where, '$parent inside CALL { } cannot be batched; use it outside the subquery, or in a pattern, EXISTS/COUNT/COLLECT subquery');
    }
    let body = statement;
    for (const p of [...params].sort((a, b) => t.start(b) - t.start(a))) body = body.slice(0, t.start(p)) + PARENT_VAR + body.slice(t.end(p));
    return (
      `UNWIND range(0, size($${PARENTS_PARAM}) - 1) AS ${INDEX_VAR} WITH ${INDEX_VAR}, $${PARENTS_PARAM}[${INDEX_VAR}] AS ${PARENT_VAR} ` +
      `CALL (${INDEX_VAR}, ${PARENT_VAR}) { ${body.trim().replace(/;\s*$/, '')} } RETURN ${INDEX_VAR}, ${columns.map(ident).join(', ')}`
    );
  }
}
