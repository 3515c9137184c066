/** graphql-yoga at /graphql: the schema of @cypher fields, limits, masking, persisted documents. */
import { GraphQLError } from 'graphql';
import { createYoga, maskError, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import type { Topology } from '../config/schema.js';
import type { StatementAnalyzer } from '../cypher/analyzer.js';
import { Codes } from '../errors/index.js';
import { documentDepth } from './document-depth.js';
import { limitRules } from './limits.js';
import type { FieldBatcher } from './batcher.js';
import { buildGatewaySchema, newBatcher as batcherFor, type GatewayGraphQLContext, type StatementRunner } from './schema.js';

/** what the /graphql route needs once this module (loaded only with a schema) is there */
export { GraphQLError };
export { PARENTS_PARAM } from './fields.js';

export type GatewayYoga = YogaServerInstance<GatewayGraphQLContext, Record<string, never>>;

/** only allow-listed documents run; clients send the hash (extensions.persistedQuery / documentId) */
function persistedDocuments(allow: Record<string, string>): Plugin {
  const allowed = new Set(Object.values(allow));
  return {
    onParams({ params, setParams }) {
      const p = params as { query?: string; documentId?: string; extensions?: { persistedQuery?: { sha256Hash?: string } } };
      const id = p.documentId ?? p.extensions?.persistedQuery?.sha256Hash;
      if (id !== undefined) {
        const doc = allow[id];
        if (!doc) throw new GraphQLError('PersistedQueryNotFound', { extensions: { code: 'PERSISTED_QUERY_NOT_FOUND', http: { status: 400 } } });
        setParams({ ...params, query: doc });
        return;
      }
      if (p.query === undefined || !allowed.has(p.query)) {
        throw new GraphQLError('Only persisted documents may run on this gateway; send documentId or extensions.persistedQuery.sha256Hash.', {
          extensions: { code: 'PERSISTED_QUERY_ONLY', http: { status: 400 } },
        });
      }
    },
  };
}

/** documents nested deeper than `max` are refused before they are parsed (see document-depth.ts) */
function documentDepthLimit(max: number): Plugin {
  return {
    onParams({ params }) {
      const query = (params as { query?: unknown }).query;
      if (typeof query === 'string' && documentDepth(query, max) > max) {
        throw new GraphQLError(`Bad Request: the document nests selections, arguments and values deeper than ${max} levels (limits.maxJsonDepth).`, {
          extensions: { code: Codes.RequestInvalid, http: { status: 400 } },
        });
      }
    },
  };
}

export async function createGraphQL(
  topology: Topology,
  sdl: string,
  analyzer: StatementAnalyzer,
  runner: StatementRunner,
  /** told of each error masked as "Unexpected error." (the client sees no more than that) */
  onUnexpectedError: (err: unknown) => void = () => undefined,
): Promise<{ yoga: GatewayYoga; newBatcher: (request: unknown) => FieldBatcher }> {
  const { schema, fields } = await buildGatewaySchema(sdl, topology, analyzer, runner);
  const rules = limitRules(topology.graphql, fields);
  const plugins: Plugin[] = [
    {
      onValidate({ addValidationRule }) {
        for (const r of rules) addValidationRule(r);
      },
    },
  ];
  if (topology.graphql.persistedDocuments) plugins.push(persistedDocuments(topology.graphql.persistedDocuments));
  plugins.push(documentDepthLimit(topology.limits.maxJsonDepth));
  const yoga = createYoga<Record<string, never>, GatewayGraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    graphiql: topology.graphql.graphiql,
    landingPage: false,
    // unexpected errors become "Unexpected error." with no message, stack or cause; the gateway's
    // log gets the error itself
    maskedErrors: {
      maskError: (error, message, isDev) => {
        const masked = maskError(error, message, isDev);
        if (masked !== error) onUnexpectedError((error as { originalError?: unknown }).originalError ?? error);
        return masked;
      },
    },
    logging: false,
    plugins,
  });
  const newBatcher = (request: unknown) => batcherFor(runner, request);
  return { yoga: yoga as unknown as GatewayYoga, newBatcher };
}
