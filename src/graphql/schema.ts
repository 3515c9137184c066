/**
 * The GraphQL schema of @cypher fields (DESIGN §3): SDL plus the directive, the fields loaded and
 * checked by fields.ts, and resolvers that run each field through the gateway (the runner:
 * statement gate, routed and federated executors) with field arguments as parameters only.
 * Nested fields are batched per level (batcher.ts). A non-null field with no row is a clear
 * error naming the field, never a masked one.
 */
import { Codes } from '../errors/index.js';
import { GraphQLError, buildSchema, type GraphQLField, GraphQLObjectType, type GraphQLSchema } from 'graphql';
import type { Topology } from '../config/schema.js';
import { ConfigError } from '../config/load.js';
import type { StatementAnalyzer } from '../cypher/analyzer.js';
import type { TypedValue } from '../values/typed.js';
import { FieldBatcher } from './batcher.js';
import { FieldLoader, type CypherField } from './fields.js';
import { argumentParams, parentParam, toGraphQL } from './values.js';

export const CYPHER_PRELUDE = `
"Binds a field to a Cypher statement run on a shard or composite of the gateway."
directive @cypher(statement: String!, database: String!, mode: CypherMode) on FIELD_DEFINITION
enum CypherMode { READ WRITE }
`;

/** what a resolver needs from the gateway for one request */
export interface StatementRunner {
  /** a root field: its statement, once */
  root(request: unknown, field: CypherField, params: Record<string, TypedValue>): Promise<TypedValue[]>;
  /** a nested field for every parent of a level: the values per parent, in the parents' order */
  batch(request: unknown, field: CypherField, parents: TypedValue[], params: Record<string, TypedValue>): Promise<TypedValue[][]>;
}

export interface GatewayGraphQLContext {
  /** the gateway's view of the HTTP request (principal, region, bookmarks) */
  gw: unknown;
  batcher: FieldBatcher;
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
  const fields = await new FieldLoader(topology, analyzer).load(schema);
  for (const type of Object.values(schema.getTypeMap())) {
    if (!(type instanceof GraphQLObjectType) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields()) as GraphQLField<unknown, unknown>[]) {
      const cf = fields.get(`${type.name}.${field.name}`);
      if (!cf) continue;
      field.resolve = async (parent: unknown, args: Record<string, unknown>, context: unknown) => {
        const ctx = context as GatewayGraphQLContext;
        const params = argumentParams(args);
        const values = cf.batch === undefined ? await runner.root(ctx.gw, cf, params) : await ctx.batcher.load(cf, parentParam(parent), params);
        if (cf.list) return values.map(toGraphQL);
        if (values.length === 0 && cf.nonNull) {
          throw new GraphQLError(`${cf.typeName}.${cf.fieldName} is non-null, but its statement returned no row.`, {
            extensions: { code: Codes.GraphQLNullResult },
          });
        }
        return values.length > 0 ? toGraphQL(values[0]!) : null;
      };
    }
  }
  return { schema, fields };
}

/** a batcher for one request: nested fields run through `runner.batch` */
export function newBatcher(runner: StatementRunner, request: unknown): FieldBatcher {
  return new FieldBatcher((field, parents, args) => runner.batch(request, field, parents, args));
}
