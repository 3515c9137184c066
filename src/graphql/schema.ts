/**
 * GraphQL schema from SDL with `@cypher` fields (DESIGN §3): each field names its Cypher
 * statement and database (shard or composite); field arguments reach Cypher only as parameters;
 * object fields see their parent as `$parent`. Checked at load: databases exist, Query fields do
 * not write, each statement returns exactly one (aliased) column. Nested fields are batched: one
 * statement per shard per nesting level, not one per parent.
 */
import {
  GraphQLObjectType,
  buildSchema,
  isListType,
  isNonNullType,
  type GraphQLField,
  type GraphQLOutputType,
  type GraphQLResolveInfo,
  type GraphQLSchema,
} from 'graphql';
import type { Topology } from '../config/schema.js';
import { ConfigError } from '../config/load.js';
import type { StatementAnalyzer } from '../cypher/analyzer.js';
import { typedFromPlain } from '../http/codec.js';
import type { AccessMode, TypedValue } from '../transport/types.js';

export const CYPHER_PRELUDE = `
"Binds a field to a Cypher statement run on a shard or composite of the gateway."
directive @cypher(statement: String!, database: String!, mode: CypherMode) on FIELD_DEFINITION
enum CypherMode { READ WRITE }
`;

export interface CypherField {
  typeName: string;
  fieldName: string;
  statement: string;
  /** the batched form, for object fields: runs for every parent of a level at once */
  batched: string | undefined;
  database: string;
  mode: AccessMode;
  column: string;
  list: boolean;
  /** shards the database spans (cost) */
  width: number;
}

/** what a resolver needs from the gateway: run a statement on a database for this request */
export interface StatementRunner {
  (request: unknown, database: string, statement: string, parameters: Record<string, TypedValue>, mode: AccessMode): Promise<{ fields: string[]; values: TypedValue[][] }>;
}

const RAW = Symbol('n4gw.raw');

/** typed value -> what GraphQL resolves: nodes become their properties (+ _id, _labels) */
export function toGraphQL(v: TypedValue): unknown {
  switch (v.$type) {
    case 'Null':
      return null;
    case 'Integer': {
      const n = Number(v._value);
      return Number.isSafeInteger(n) ? n : v._value;
    }
    case 'Float':
      return Number(v._value);
    case 'Boolean':
    case 'String':
      return v._value;
    case 'List':
      return v._value.map(toGraphQL);
    case 'Map': {
      const o: Record<string | symbol, unknown> = {};
      for (const [k, x] of Object.entries(v._value)) o[k] = toGraphQL(x);
      o[RAW] = v._value;
      return o;
    }
    case 'Node': {
      const o: Record<string | symbol, unknown> = { _id: v._value._element_id, _labels: v._value._labels };
      for (const [k, x] of Object.entries(v._value._properties)) o[k] = toGraphQL(x);
      o[RAW] = { ...v._value._properties, _id: { $type: 'String', _value: v._value._element_id } };
      return o;
    }
    case 'Relationship': {
      const o: Record<string | symbol, unknown> = { _id: v._value._element_id, _type: v._value._type };
      for (const [k, x] of Object.entries(v._value._properties)) o[k] = toGraphQL(x);
      o[RAW] = { ...v._value._properties, _id: { $type: 'String', _value: v._value._element_id } };
      return o;
    }
    case 'Path':
      return v._value.map(toGraphQL);
    default:
      return v._value;
  }
}

/** the parent as a Cypher map parameter: its own typed properties (and _id for nodes) */
function parentParam(parent: unknown): TypedValue {
  if (parent && typeof parent === 'object' && RAW in parent) {
    return { $type: 'Map', _value: (parent as Record<symbol, Record<string, TypedValue>>)[RAW]! };
  }
  return typedFromPlain(parent ?? null);
}

function unwrap(t: GraphQLOutputType): { list: boolean } {
  const inner = isNonNullType(t) ? t.ofType : t;
  return { list: isListType(inner) };
}

interface Batch {
  parents: TypedValue[];
  waiters: { resolve: (v: TypedValue[]) => void; reject: (e: unknown) => void }[];
}

/** per-request batching of nested @cypher fields (a DataLoader keyed by type.field) */
export class FieldBatcher {
  private readonly pending = new Map<string, Batch>();
  statements = 0;
  constructor(private readonly run: (field: CypherField, parents: TypedValue[]) => Promise<TypedValue[][]>) {}

  load(field: CypherField, parent: TypedValue): Promise<TypedValue[]> {
    const key = `${field.typeName}.${field.fieldName}`;
    let batch = this.pending.get(key);
    if (!batch) {
      batch = { parents: [], waiters: [] };
      this.pending.set(key, batch);
      // every sibling of a list resolves in the same tick: flush after it
      const b = batch;
      queueMicrotask(() =>
        queueMicrotask(() => {
          this.pending.delete(key);
          this.statements++;
          this.run(field, b.parents).then(
            (perParent) => b.waiters.forEach((w, i) => w.resolve(perParent[i] ?? [])),
            (err: unknown) => b.waiters.forEach((w) => w.reject(err)),
          );
        }),
      );
    }
    return new Promise<TypedValue[]>((resolve, reject) => {
      batch.parents.push(parent);
      batch.waiters.push({ resolve, reject });
    });
  }
}

export interface GatewayGraphQLContext {
  /** the gateway's view of the HTTP request (principal, region, bookmarks) */
  gw: unknown;
  batcher: FieldBatcher;
}

const AGGREGATE_NAMES = /^(count|sum|avg|min|max|collect|stdev|stdevp|percentilecont|percentiledisc)$/i;

function returnColumn(cypher: { trees: unknown[]; ruleNames: readonly string[] }, statement: string, where: string): { column: string; parentParams: [number, number][]; aggregates: boolean } {
  // walk the ANTLR tree of the statement: the final RETURN's items, and $parent references
  type N = { ruleIndex?: number; children?: N[] | null; start: { start: number }; stop?: { stop: number } | null };
  const rule = (n: N) => (n.ruleIndex === undefined ? undefined : cypher.ruleNames[n.ruleIndex]);
  const text = (n: N) => statement.slice(n.start.start, (n.stop ? n.stop.stop : n.start.start - 1) + 1);
  const find = (n: N, name: string, out: N[] = []): N[] => {
    for (const c of n.children ?? []) {
      if (rule(c) === name) out.push(c);
      find(c, name, out);
    }
    return out;
  };
  const root = cypher.trees[0] as N | undefined;
  if (!root || cypher.trees.length !== 1) throw new ConfigError([`${where}: @cypher statement must be exactly one statement`]);
  const singles = find(root, 'singleQuery').filter((sq) => !find(root, 'subqueryClause').some((sub) => sq.start.start > sub.start.start && sq.start.start < (sub.stop?.stop ?? 0)));
  const last = singles[singles.length - 1];
  const clauses = last ? (last.children ?? []).filter((c) => rule(c) === 'clause') : [];
  const ret = clauses[clauses.length - 1]?.children?.[0];
  if (!ret || rule(ret) !== 'returnClause') throw new ConfigError([`${where}: @cypher statement must end with RETURN (one column)`]);
  const items = find(ret, 'returnItem');
  if (items.length !== 1 || text(ret).includes('*')) throw new ConfigError([`${where}: @cypher statement must return exactly one column, returns ${items.length}`]);
  const item = items[0]!;
  const alias = (item.children ?? []).find((c) => rule(c) === 'variable');
  const expr = (item.children ?? []).find((c) => rule(c) === 'expression')!;
  const exprText = text(expr).trim();
  const column = alias ? text(alias).replace(/^`|`$/g, '') : exprText;
  if (!alias && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(exprText)) {
    throw new ConfigError([`${where}: give the returned column an alias (RETURN ${exprText} AS value): nested fields run it inside CALL { }, where Neo4j requires one`]);
  }
  const parentParams = find(root, 'parameter')
    .filter((p) => text(p).replace(/\s/g, '') === '$parent')
    .map((p) => [p.start.start, (p.stop ? p.stop.stop : p.start.start) + 1] as [number, number]);
  const aggregates =
    find(expr, 'countStar').length > 0 ||
    find(expr, 'functionInvocation').some((f) => {
      const name = (f.children ?? []).find((c) => rule(c) === 'functionName');
      return name !== undefined && AGGREGATE_NAMES.test(text(name).trim());
    });
  return { column, parentParams, aggregates };
}

export async function buildGatewaySchema(
  sdl: string,
  topology: Topology,
  analyzer: StatementAnalyzer,
  runner: StatementRunner,
): Promise<{ schema: GraphQLSchema; fields: Map<string, CypherField> }> {
  let schema: GraphQLSchema;
  try {
    schema = buildSchema(CYPHER_PRELUDE + sdl);
  } catch (err) {
    throw new ConfigError([`graphql: ${(err as Error).message}`]);
  }
  const fields = new Map<string, CypherField>();
  const problems: string[] = [];
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
      const statement = arg('statement')!;
      const database = arg('database')!;
      const isMutation = type === mutationType;
      const mode = (arg('mode') ?? (isMutation ? 'WRITE' : 'READ')) as AccessMode;
      if (!Object.hasOwn(topology.shards, database) && !Object.hasOwn(topology.composites, database)) {
        problems.push(`${where}: unknown database "${database}"`);
        continue;
      }
      if (mode === 'WRITE' && !isMutation) problems.push(`${where}: only Mutation fields may use mode WRITE`);
      let column: string;
      let parentParams: [number, number][];
      let aggregates: boolean;
      try {
        const parsed = await analyzer.parseTree(statement);
        if (!parsed) throw new ConfigError([`${where}: the @cypher statement is not valid Cypher`]);
        const body = (parsed.statement.children ?? [])[0]?.children?.find((c) => c.ruleIndex !== undefined && parsed.tree.ruleNames[c.ruleIndex] === 'statement');
        ({ column, parentParams, aggregates } = returnColumn({ trees: body ? [body] : [], ruleNames: parsed.tree.ruleNames }, statement, where));
      } catch (err) {
        if (err instanceof ConfigError) problems.push(...err.problems);
        else problems.push(`${where}: ${(err as Error).message}`);
        continue;
      }
      const isRoot = type === schema.getQueryType() || isMutation;
      if (!isRoot && aggregates && Object.hasOwn(topology.composites, database)) {
        problems.push(`${where}: a nested field that aggregates cannot be batched exactly over composite "${database}" (each shard would count its own part for every parent); use a shard, or a root field`);
      }
      if (!isRoot && parentParams.length === 0) problems.push(`${where}: a nested @cypher field should use $parent (the parent object), or it returns the same for every parent`);
      let batched: string | undefined;
      if (!isRoot) {
        let inner = statement;
        for (const [s, e] of [...parentParams].sort((a, b) => b[0] - a[0])) inner = inner.slice(0, s) + 'parent' + inner.slice(e);
        batched = `UNWIND range(0, size($__parents) - 1) AS __i CALL { WITH __i WITH __i, $__parents[__i] AS parent ${inner} } RETURN __i, \`${column}\``;
      }
      const width = Object.hasOwn(topology.composites, database) ? topology.composites[database]!.shards.length : 1;
      const cf: CypherField = { typeName: type.name, fieldName: field.name, statement, batched, database, mode, column, list: unwrap(field.type).list, width };
      fields.set(`${type.name}.${field.name}`, cf);
      field.resolve = async (parent: unknown, args: Record<string, unknown>, context: unknown, _info: GraphQLResolveInfo) => {
        const ctx = context as GatewayGraphQLContext;
        let values: TypedValue[];
        if (cf.batched === undefined) {
          const params: Record<string, TypedValue> = {};
          for (const [k, v] of Object.entries(args)) params[k] = typedFromPlain(v);
          const res = await runner(ctx.gw, cf.database, cf.statement, params, cf.mode);
          values = res.values.map((r) => r[0]!);
        } else {
          values = await ctx.batcher.load(cf, parentParam(parent));
        }
        if (cf.list) return values.map(toGraphQL);
        return values.length > 0 ? toGraphQL(values[0]!) : null;
      };
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { schema, fields };
}

/** runs a batched nested field: one statement for every parent of the level, rows grouped back */
export async function runBatched(runner: StatementRunner, request: unknown, field: CypherField, parents: TypedValue[]): Promise<TypedValue[][]> {
  const res = await runner(request, field.database, field.batched!, { __parents: { $type: 'List', _value: parents } }, field.mode);
  const per: TypedValue[][] = parents.map(() => []);
  for (const row of res.values) per[Number(row[0]!._value)]!.push(row[1]!);
  return per;
}
