/** /graphql: the GraphQL schema of @cypher fields, run through the same routed and federated executors. */
import type { Hono } from 'hono';
import { Codes, GatewayError, toGatewayError } from '../../errors/index.js';
import { resolveDatabase } from '../../topology/index.js';
import { bookmarksFor, encodeBookmarks, mergeBookmarks, type ShardBookmarks } from '../../routing/bookmarks.js';
import type { Route } from '../../routing/types.js';
import type { RunResult } from '../../transport/types.js';
import type { TypedValue } from '../../values/typed.js';
import type { FederatedResult } from '../../federation/execute.js';
import type { CypherField } from '../../graphql/fields.js';
import type { StatementRunner } from '../../graphql/schema.js';
import type * as GraphQLServer from '../../graphql/server.js';
import { maxResultBytesFor, maxRowsFor } from '../../limits/effective.js';
import { ApiKeyAuth, type Principal } from '../auth.js';
import { assertJsonDepth } from '../json-depth.js';
import { SHARD_KEY_HEADER, transactionMetadata, type ClientBookmarks, type GatewayContext, type GatewayEnv, type RequestState } from '../context.js';
import { clientBookmarks, readBody, type Guards } from '../middleware/guards.js';
import { errorResponse, routeHeaders } from '../respond.js';
import { errorFields } from '../../telemetry/log.js';
import type { Services } from '../services.js';

type Env = GatewayEnv;

type GraphQLModule = typeof GraphQLServer;

/** mounts /graphql when the deps carry a schema; resolves when the schema has loaded */
export function registerGraphQL(app: Hono<Env>, s: Services, g: Guards): Promise<void> {
  const { deps, topology, executor, federated, gate, metrics, analyzer, auth, admission } = s;
  // graphql and graphql-yoga are loaded only where a schema is configured: about 8 MiB of heap
  // (and, through the old space's growth, several times that of peak memory) that a gateway
  // without GraphQL never needs. Everything below that uses them runs after they have loaded.
  let lib: GraphQLModule | undefined;
  const loading = deps.graphqlSchema !== undefined ? import('../../graphql/server.js').then((m) => (lib = m)) : undefined;
  // ---- GraphQL ----
  interface GraphQLRequestInfo {
    principal: Principal;
    region: string;
    pinned: boolean;
    /** the request's state: its clock, and the shards it reaches (for headers, metrics, the log line) */
    request: RequestState;
    metadata: Record<string, string>;
    shardKey: string | undefined;
    sent: ClientBookmarks;
    touched: ShardBookmarks;
  }
  /** runs a field's statement (or its batched form) for this request; client errors keep their Neo4j code */
  const guarded = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (err) {
      const ge = toGatewayError(err);
      if (ge.code === Codes.Internal) throw err; // masked by yoga
      // client errors keep Neo4j's code; the message is Neo4j's or the gateway's own, never internal
      throw new lib!.GraphQLError(ge.message, { extensions: { code: ge.code } });
    }
  };

  const common = (info: GraphQLRequestInfo, field: CypherField, parameters: Record<string, TypedValue>) => ({
    parameters,
    accessMode: field.mode,
    region: info.region,
    pinned: info.pinned,
    maxRows: maxRowsFor(info.principal, topology.limits),
    maxResultBytes: maxResultBytesFor(info.principal, topology.limits),
    deadline: info.request.started + topology.limits.requestDeadlineMs,
    timeoutMs: topology.limits.queryTimeoutMs,
    metadata: info.metadata,
  });

  /** the key may use the field's database in its mode, and run its statement (statement gate); the shard's text */
  const admit = async (info: GraphQLRequestInfo, field: CypherField): Promise<{ shard: string; text: string } | { composite: string }> => {
    ApiKeyAuth.authorize(info.principal, field.database, field.mode);
    const target = resolveDatabase(topology, field.database);
    if (target.kind === 'shard')
      return { shard: target.shard, ...(await gate.forShard(info.principal, target.shard, field.statement, { mode: field.mode, impersonates: false })) };
    await gate.forComposite(info.principal, target.shards[0]!, field.statement, { mode: field.mode, impersonates: false });
    return { composite: target.name };
  };

  const tookShard = (info: GraphQLRequestInfo, r: { route: Route; attempts: number; result: RunResult }, shard: string) => {
    info.request.shards.push({ route: r.route, attempts: r.attempts, outcome: 'ok' });
    if (r.result.bookmarks.length) info.touched[shard] = r.result.bookmarks;
    if (r.result.error) throw new GatewayError(r.result.error.code, r.result.error.message);
  };

  const tookComposite = (info: GraphQLRequestInfo, db: string, out: FederatedResult) => {
    for (const route of out.routes) info.request.shards.push({ route, attempts: 1, outcome: 'ok' });
    metrics.fanout.observe({ database: db }, out.width);
    Object.assign(info.touched, out.shardBookmarks);
    if (out.result.error) throw new GatewayError(out.result.error.code, out.result.error.message);
  };

  /** rows [parent index, value] -> the values of each parent */
  const perParent = (rows: TypedValue[][], parents: number): TypedValue[][] => {
    const per: TypedValue[][] = Array.from({ length: parents }, () => []);
    for (const row of rows) per[Number(row[0]!._value)]?.push(row[1]!);
    return per;
  };

  const runner: StatementRunner = {
    root: (request, field, parameters) =>
      guarded(async () => {
        const info = request as GraphQLRequestInfo;
        const target = await admit(info, field);
        if ('shard' in target) {
          const r = await executor.run({
            ...common(info, field, parameters),
            statement: target.text,
            shard: target.shard,
            bookmarks: bookmarksFor(info.sent, target.shard),
          });
          tookShard(info, r, target.shard);
          return r.result.values.map((row) => row[0]!);
        }
        // the shard key of the request says where a mutation writes; reads see the whole composite
        const shardKey = field.mode === 'WRITE' ? info.shardKey : undefined;
        const out = await federated.run({
          ...common(info, field, parameters),
          statement: field.statement,
          composite: target.composite,
          bookmarks: info.sent,
          allowPartial: false,
          ...(shardKey !== undefined ? { shardKey } : {}),
        });
        tookComposite(info, target.composite, out);
        return out.result.values.map((row) => row[0]!);
      }),
    batch: (request, field, parents, parameters) =>
      guarded(async () => {
        const info = request as GraphQLRequestInfo;
        const target = await admit(info, field);
        const params = { ...parameters, [lib!.PARENTS_PARAM]: { $type: 'List', _value: parents } as TypedValue };
        const batch = field.batch!;
        if ('shard' in target && batch.kind === 'shard') {
          const r = await executor.run({
            ...common(info, field, params),
            statement: batch.text,
            shard: target.shard,
            bookmarks: bookmarksFor(info.sent, target.shard),
          });
          tookShard(info, r, target.shard);
          return perParent(r.result.values, parents.length);
        }
        if ('composite' in target && batch.kind === 'composite') {
          const out = await federated.runBatched(
            { ...common(info, field, params), statement: field.statement, composite: target.composite, bookmarks: info.sent, allowPartial: false },
            batch.plan,
            batch.columns,
            parents.length,
          );
          tookComposite(info, target.composite, out);
          return perParent(out.result.values, parents.length);
        }
        throw new GatewayError(Codes.Internal, 'A nested field lost its batched form.');
      }),
  };
  const unexpected = (err: unknown) => s.logger.error('unexpected error', { path: '/graphql', error: errorFields(err) });
  const sdl = deps.graphqlSchema;
  const graphql = loading && sdl !== undefined ? loading.then((m) => m.createGraphQL(topology, sdl, analyzer, runner, unexpected)) : undefined;
  // a schema that fails to load is reported by `ready`; requests answer 503 meanwhile
  graphql?.catch(() => undefined);

  const graphqlHandler = async (c: GatewayContext) => {
    if (!graphql) return errorResponse(new GatewayError(Codes.NotFound, 'GraphQL is not configured on this gateway (graphql.schema in the topology).'), false);
    const { yoga, newBatcher } = await graphql.catch((err: unknown) => {
      throw new GatewayError(Codes.DatabaseUnavailable, `The GraphQL schema did not load: ${(err as Error).message}`);
    });
    const wantsPage = c.req.method === 'GET' && (c.req.header('accept') ?? '').includes('text/html');
    const principal = wantsPage && topology.graphql.graphiql ? undefined : await auth.authenticate(c.req.header('authorization'));
    if (principal) c.set('principal', principal);
    const { region, pinned } = c.get('region');
    const headerKey = c.req.header(SHARD_KEY_HEADER);
    const bookmarkHeader = c.req.header('x-neo4j-bookmarks');
    const info: GraphQLRequestInfo = {
      principal: principal ?? { id: 'graphiql', databases: new Set(), modes: new Set(), allow: [], limits: {} },
      region,
      pinned,
      request: c.get('request'),
      metadata: transactionMetadata(c, s.instanceId),
      shardKey: headerKey !== undefined && headerKey !== '' ? headerKey : undefined,
      sent: clientBookmarks(
        bookmarkHeader
          ? bookmarkHeader
              .split(',')
              .map((b) => b.trim())
              .filter(Boolean)
          : [],
      ),
      touched: {},
    };
    let request = c.req.raw;
    const persisted = topology.graphql.persistedDocuments;
    // a body nested past limits.maxJsonDepth is refused before anything parses it
    const text = c.req.method === 'POST' ? await readBody(s, c) : undefined;
    if (text === undefined) {
      // GET: the JSON of the query string's variables and extensions, held to the same limit
      for (const name of ['variables', 'extensions'])
        for (const v of new URL(c.req.url).searchParams.getAll(name)) assertJsonDepth(v, topology.limits.maxJsonDepth);
    }
    if (text !== undefined) {
      assertJsonDepth(text, topology.limits.maxJsonDepth);
      if (!persisted) request = new Request(c.req.url, { method: 'POST', headers: c.req.raw.headers, body: text });
    }
    if (persisted && text !== undefined) {
      // GraphQL-over-HTTP persisted documents: {"documentId": "<sha256>"} stands for the document
      let body: Record<string, unknown> | undefined;
      try {
        body = JSON.parse(text) as Record<string, unknown>;
      } catch {
        body = undefined;
      }
      if (body && typeof body.documentId === 'string') {
        const doc = persisted[body.documentId.replace(/^sha256:/, '')];
        if (doc === undefined) return c.json({ errors: [{ message: 'PersistedQueryNotFound', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } }] }, 400);
        const { documentId: _documentId, ...rest } = body;
        request = new Request(c.req.url, { method: 'POST', headers: c.req.raw.headers, body: JSON.stringify({ ...rest, query: doc }) });
      } else {
        request = new Request(c.req.url, { method: 'POST', headers: c.req.raw.headers, body: text });
      }
    }
    // the same admission as REST: the key's concurrency on this instance and its fleet-wide rate
    const release = principal ? admission.admit(principal) : () => undefined;
    let res: Response;
    try {
      res = await yoga.fetch(request, { gw: info, batcher: newBatcher(info) });
    } finally {
      release();
    }
    const headers = new Headers(res.headers);
    for (const [k, v] of Object.entries(routeHeaders(info.request.shards.map((t) => t.route)))) headers.set(k, v);
    const bm = encodeBookmarks(mergeBookmarks(info.sent.shards, info.touched));
    if (bm.length > 0) headers.set('x-neo4j-bookmarks', bm.join(','));
    return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
  };
  app.get('/graphql', g.region, graphqlHandler);
  app.post('/graphql', g.bodyLimit, g.region, graphqlHandler);

  return graphql ? graphql.then(() => undefined) : Promise.resolve();
}
