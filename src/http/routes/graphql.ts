/** /graphql: the GraphQL schema of @cypher fields, run through the same routed and federated executors. */
import type { Context, Hono } from 'hono';
import { GraphQLError } from 'graphql';
import { Codes, GatewayError, toGatewayError } from '../../errors/index.js';
import { resolveDatabase } from '../../topology/index.js';
import { bookmarksFor, encodeBookmarks, mergeBookmarks, type ShardBookmarks } from '../../routing/bookmarks.js';
import type { Route } from '../../routing/service.js';
import type { AccessMode, TypedValue } from '../../transport/types.js';
import { createGraphQL } from '../../graphql/server.js';
import { ApiKeyAuth, type Principal } from '../auth.js';
import { assertJsonDepth } from '../json-depth.js';
import { SHARD_KEY_HEADER, errorResponse, routeHeaders, type GatewayEnv, type Kit } from '../kit.js';

type Env = GatewayEnv;

/** mounts /graphql when the deps carry a schema; resolves when the schema has loaded */
export function registerGraphQL(app: Hono<Env>, kit: Kit): Promise<void> {
  const { deps, topology, executor, federated, gate, metrics, analyzer, auth, limit, requestRegion, decodeClientBookmarks, recordShard } = kit;
  // ---- GraphQL ----
  interface GraphQLRequestInfo {
    principal: Principal;
    region: string;
    pinned: boolean;
    started: number;
    shardKey: string | undefined;
    sent: { shards: ShardBookmarks; raw: string[] };
    routes: Route[];
    touched: ShardBookmarks;
  }
  const runForGraphQL = async (request: unknown, db: string, statement: string, parameters: Record<string, TypedValue>, mode: AccessMode) => {
    const info = request as GraphQLRequestInfo;
    try {
      ApiKeyAuth.authorize(info.principal, db, mode);
      const target = resolveDatabase(topology, db);
      const common = { statement, parameters, accessMode: mode, region: info.region, pinned: info.pinned, maxRows: topology.limits.maxRows, deadline: info.started + topology.limits.requestDeadlineMs, timeoutMs: topology.limits.queryTimeoutMs };
      if (target.kind === 'shard') {
        const { text } = await gate.forShard(info.principal, target.shard, statement, { mode, impersonates: false });
        const r = await executor.run({ ...common, statement: text, shard: target.shard, bookmarks: bookmarksFor(info.sent, target.shard) });
        recordShard(r.route, 'ok', r.attempts);
        info.routes.push(r.route);
        if (r.result.bookmarks.length) info.touched[target.shard] = r.result.bookmarks;
        if (r.result.error) throw new GatewayError(r.result.error.code, r.result.error.message);
        return r.result;
      }
      await gate.forComposite(info.principal, target.shards[0]!, statement, { mode, impersonates: false });
      const out = await federated.run({ ...common, composite: db, bookmarks: info.sent, allowPartial: false, ...(info.shardKey !== undefined ? { shardKey: info.shardKey } : {}) });
      for (const r of out.routes) recordShard(r, 'ok', 1);
      metrics.fanout.observe({ database: db }, out.width);
      info.routes.push(...out.routes);
      Object.assign(info.touched, out.shardBookmarks);
      if (out.result.error) throw new GatewayError(out.result.error.code, out.result.error.message);
      return out.result;
    } catch (err) {
      const ge = toGatewayError(err);
      if (ge.code === Codes.Internal) throw err; // masked by yoga
      // client errors keep Neo4j's code; the message is Neo4j's or the gateway's own, never internal
      throw new GraphQLError(ge.message, { extensions: { code: ge.code } });
    }
  };
  const graphql = deps.graphqlSchema !== undefined ? createGraphQL(topology, deps.graphqlSchema, analyzer, runForGraphQL) : undefined;
  // a schema that fails to load is reported by `ready`; requests answer 503 meanwhile
  graphql?.catch(() => undefined);

  const graphqlHandler = async (c: Context<Env>) => {
    if (!graphql) return errorResponse(new GatewayError(Codes.NotFound, 'GraphQL is not configured on this gateway (graphql.schema in the topology).', { status: 404 }), false);
    const { yoga, newBatcher } = await graphql.catch((err: unknown) => {
      throw new GatewayError(Codes.DatabaseUnavailable, `The GraphQL schema did not load: ${(err as Error).message}`, { status: 503 });
    });
    const wantsPage = c.req.method === 'GET' && (c.req.header('accept') ?? '').includes('text/html');
    const principal = wantsPage && topology.graphql.graphiql ? undefined : await auth.authenticate(c.req.header('authorization'));
    const { region, pinned } = requestRegion(c);
    const headerKey = c.req.header(SHARD_KEY_HEADER);
    const bookmarkHeader = c.req.header('x-neo4j-bookmarks');
    const info: GraphQLRequestInfo = {
      principal: principal ?? { id: 'graphiql', databases: new Set(), modes: new Set(), allow: [], limits: {} },
      region,
      pinned,
      started: c.get('started'),
      shardKey: headerKey !== undefined && headerKey !== '' ? headerKey : undefined,
      sent: decodeClientBookmarks(bookmarkHeader ? bookmarkHeader.split(',').map((b) => b.trim()).filter(Boolean) : []),
      routes: [],
      touched: {},
    };
    let request = c.req.raw;
    const persisted = topology.graphql.persistedDocuments;
    // a body nested past limits.maxJsonDepth is refused before anything parses it
    const text = c.req.method === 'POST' ? await c.req.text() : undefined;
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
    const res = await yoga.fetch(request, { gw: info, batcher: newBatcher(info) });
    const headers = new Headers(res.headers);
    for (const [k, v] of Object.entries(routeHeaders(info.routes))) headers.set(k, v);
    const bm = encodeBookmarks(mergeBookmarks(info.sent.shards, info.touched));
    if (bm.length > 0) headers.set('x-neo4j-bookmarks', bm.join(','));
    return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
  };
  app.get('/graphql', graphqlHandler);
  app.post('/graphql', limit, graphqlHandler);

  return graphql ? graphql.then(() => undefined) : Promise.resolve();
}
