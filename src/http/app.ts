/**
 * createApp(deps): the gateway's HTTP surface (hono), runtime-neutral. Adapters build the
 * transport and cache and hand them in; nothing here touches a runtime API.
 */
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Topology } from '../config/schema.js';
import type { Cache } from '../cache/types.js';
import { Codes, GatewayError, toGatewayError } from '../errors/index.js';
import { assertRegion, resolveDatabase } from '../topology/index.js';
import { RoutingService, type Route, type RoutingState } from '../routing/service.js';
import { ShardExecutor } from '../routing/executor.js';
import { bookmarksFor, decodeBookmarks, encodeBookmarks, mergeBookmarks } from '../routing/bookmarks.js';
import type { RunResult, Transport } from '../transport/types.js';
import { ApiKeyAuth, type Principal, type Sha256 } from './auth.js';
import { TYPED_JSON, encodeQueryResponse, isTypedMedia, negotiate, parseQueryRequest, type QueryRequest } from './codec.js';
import { Metrics } from './metrics.js';
import { Cypher, type CypherLoader } from '../federation/cypher.js';
import { FederatedExecutor } from '../federation/execute.js';
import { GraphQLError } from 'graphql';
import { createGraphQL } from '../graphql/server.js';
import type { ShardBookmarks } from '../routing/bookmarks.js';
import type { AccessMode, TypedValue } from '../transport/types.js';
import { TransactionRegistry } from './transactions.js';
import { TxTokens } from './tx-token.js';

export const GATEWAY_VERSION = '0.1.0';
/** the Neo4j version the Query API surface follows (clients parse it) */
export const COMPAT_NEO4J_VERSION = '5.26.0';

export interface GatewayDeps {
  topology: Topology;
  transport: Transport;
  /** the shared routing-table cache (Redis); absent: this instance's memory only */
  sharedCache?: Cache;
  /** the region of a request when no header pins one (Node: GATEWAY_REGION; Workers: request.cf) */
  runtimeRegion?: (request: Request) => string | undefined;
  /** identifies this instance in `neo4j-cluster-affinity` */
  instanceId?: string;
  /** routing tables and member health to keep across gateway objects (Workers: per isolate) */
  routingState?: RoutingState;
  /** background work the runtime must finish (Workers: ctx.waitUntil) */
  waitUntil?: (work: Promise<unknown>) => void;
  /** signs ids of transactions Neo4j holds (HTTP transports); must be the same on every instance */
  txSecret?: string;
  /** names the runtime in /health ("node", "worker") */
  runtime?: string;
  /** reuse one Cypher parser (and its cache) across gateway objects */
  cypher?: Cypher;
  now?: () => number;
  /** GraphQL SDL with @cypher fields; absent: /graphql answers 404 */
  graphqlSchema?: string;
  /** loads Neo4j's Cypher grammar, on the first composite query (default: dynamic import) */
  cypherLoader?: CypherLoader;
  /** SHA-256 for API keys (default: crypto.subtle) */
  sha256?: Sha256;
  /** called with errors that produced a 5xx (for logs); never sent to clients */
  onInternalError?: (err: unknown) => void;
}

export interface Gateway {
  app: Hono<GatewayEnv>;
  /** resolves when everything built asynchronously (the GraphQL schema) is ready; rejects on a bad schema */
  ready: Promise<void>;
  routing: RoutingService;
  metrics: Metrics;
  transactions: TransactionRegistry;
  close(): Promise<void>;
}

export type GatewayEnv = { Variables: { principal: Principal; started: number } };
type Env = GatewayEnv;

const REGION_HEADER = 'x-neo4j-region';
const SHARD_KEY_HEADER = 'x-neo4j-shard-key';
const PARTIAL_HEADER = 'x-gateway-partial';
const AFFINITY_HEADER = 'neo4j-cluster-affinity';

function errorResponse(err: GatewayError, typed: boolean): Response {
  // request-shape errors are always plain JSON, as Neo4j answers them
  const asTyped = typed && err.code !== Codes.RequestInvalid;
  const headers: Record<string, string> = { 'content-type': asTyped ? TYPED_JSON : 'application/json', ...err.headers };
  return new Response(JSON.stringify(err.toBody()), { status: err.status, headers });
}

function routeHeader(routes: Route[]): string {
  return routes.map((r) => `${r.shard}=${r.member.address};${r.role};${r.region}`).join(', ');
}

export function createGateway(deps: GatewayDeps): Gateway {
  const { topology, transport } = deps;
  const now = deps.now ?? Date.now;
  const instanceId = deps.instanceId ?? 'gw';
  const routing = new RoutingService(topology, transport, deps.sharedCache, {
    now,
    instanceId,
    ...(deps.routingState ? { state: deps.routingState } : {}),
    ...(deps.waitUntil ? { waitUntil: deps.waitUntil } : {}),
  });
  void routing.start();
  const executor = new ShardExecutor(routing, transport, (shard) => {
    const s = topology.shards[shard];
    if (!s) throw new GatewayError(Codes.DatabaseNotFound, `Database does not exist. Database name: '${shard}'.`);
    return { cluster: s.cluster, database: s.database };
  }, now);
  const auth = new ApiKeyAuth(topology, deps.sha256);
  const cypher = deps.cypher ?? new Cypher(deps.cypherLoader);
  const federated = new FederatedExecutor(topology, executor, cypher);
  const metrics = new Metrics();
  const transactions = new TransactionRegistry(topology.limits.transactionIdleMs, now);
  const app = new Hono<Env>();

  const wantsTyped = (c: Context) => negotiate(c.req.header('accept')) === 'typed';
  /** the response media type; 406 when the client accepts none we speak */
  const responseKind = (c: Context): boolean => {
    const kind = negotiate(c.req.header('accept'));
    if (!kind) throw new GatewayError(Codes.RequestInvalid, `Not Acceptable: this endpoint answers application/json or ${TYPED_JSON}.`, { status: 406 });
    return kind === 'typed';
  };

  app.onError((err, c) => {
    const ge = toGatewayError(err);
    if (ge.status >= 500 && ge.code === Codes.Internal) deps.onInternalError?.(err);
    metrics.errors.inc({ code: ge.code });
    return errorResponse(ge, wantsTyped(c));
  });
  app.notFound((c) => errorResponse(new GatewayError(Codes.NotFound, `No such resource: ${c.req.method} ${new URL(c.req.url).pathname}`, { status: 404 }), false));

  // metrics for every request
  app.use('*', async (c, next) => {
    const started = now();
    c.set('started', started);
    await next();
    const route = c.req.routePath || 'unmatched';
    metrics.requests.inc({ route, method: c.req.method, status: String(c.res.status) });
    metrics.latency.observe({ route }, (now() - started) / 1000);
  });

  const limit = bodyLimit({
    maxSize: topology.limits.maxBodyBytes,
    // the rest of the body is never read: close the connection so no client reuses it mid-body
    onError: (c) =>
      errorResponse(
        new GatewayError(Codes.PayloadTooLarge, `Request body is larger than ${topology.limits.maxBodyBytes} bytes.`, { status: 413, headers: { connection: 'close' } }),
        isTypedMedia(c.req.header('accept')),
      ),
  });

  const authenticate = async (c: Context<Env>, next: () => Promise<void>) => {
    c.set('principal', await auth.authenticate(c.req.header('authorization')));
    await next();
  };

  // ---- discovery document (what Query API clients read first) ----
  app.get('/', (c) => {
    const url = new URL(c.req.url);
    const proto = c.req.header('x-forwarded-proto') ?? url.protocol.replace(':', '');
    const host = c.req.header('x-forwarded-host') ?? c.req.header('host') ?? url.host;
    const base = `${proto}://${host}`;
    return c.json({
      query: `${base}/db/{databaseName}/query/v2`,
      neo4j_version: COMPAT_NEO4J_VERSION,
      neo4j_edition: 'gateway',
      gateway: `neo4j-edge-gateway/${GATEWAY_VERSION}`,
      databases: [...Object.keys(topology.shards), ...Object.keys(topology.composites)],
    });
  });

  // ---- ops ----
  app.get('/health', (c) => c.json({ status: 'up', version: GATEWAY_VERSION, runtime: deps.runtime ?? 'unknown' }));

  app.get('/ready', async (c) => {
    const shards = Object.entries(topology.shards);
    const checks = await Promise.all(
      shards.map(async ([name, s]) => {
        try {
          const { table, source } = await routing.tableFor(s.cluster, s.database);
          return { shard: name, ok: table.writers.length + table.readers.length > 0, source };
        } catch (err) {
          return { shard: name, ok: false, error: toGatewayError(err).message };
        }
      }),
    );
    const ready = checks.every((x) => x.ok);
    const cache = deps.sharedCache ? (deps.sharedCache.healthy() ? 'ok' : 'degraded') : 'none';
    return c.json({ status: ready ? (cache === 'degraded' ? 'degraded' : 'ready') : 'not ready', sharedCache: cache, shards: checks }, ready ? 200 : 503);
  });

  const opsAuth = (name: 'metrics' | 'topology') => (c: Context<Env>, next: () => Promise<void>) =>
    topology.auth.publicEndpoints.includes(name) ? next() : authenticate(c, next);

  app.get('/topology', opsAuth('topology'), (c) => {
    const t = now();
    const tables = routing.snapshot();
    const clusters = Object.fromEntries(
      Object.entries(topology.clusters).map(([name, cl]) => {
        const own = tables.filter((x) => x.table.cluster === name);
        const addresses = new Set<string>([...Object.keys(cl.members), ...own.flatMap((x) => [...x.table.writers, ...x.table.readers, ...x.table.routers])]);
        const members = [...addresses].sort().map((address) => {
          const roles = new Set<string>();
          for (const x of own) {
            if (x.table.writers.includes(address)) roles.add('WRITE');
            if (x.table.readers.includes(address)) roles.add('READ');
            if (x.table.routers.includes(address)) roles.add('ROUTE');
          }
          return {
            address,
            region: cl.members[address]?.region ?? cl.region ?? topology.defaultRegion,
            roles: [...roles].sort(),
            ...routing.memberState(name, address),
          };
        });
        return [
          name,
          {
            routers: cl.routers,
            members,
            routingTables: own.map((x) => ({
              database: x.table.database,
              ageMs: t - x.table.fetchedAt,
              ttlSeconds: x.table.ttlSeconds,
              expired: x.table.expiresAt <= t,
              source: x.table.origin,
              writers: x.table.writers,
              readers: x.table.readers,
              routers: x.table.routers,
            })),
          },
        ];
      }),
    );
    return c.json({
      regions: topology.regions,
      defaultRegion: topology.defaultRegion,
      clusters,
      shards: topology.shards,
      composites: Object.fromEntries(Object.entries(topology.composites).map(([n, x]) => [n, { shards: x.shards, shardKey: x.shardKey?.strategy ?? null }])),
      sharedCache: deps.sharedCache ? { kind: deps.sharedCache.kind, healthy: deps.sharedCache.healthy() } : null,
    });
  });

  app.get('/metrics', opsAuth('metrics'), (c) => {
    const lines: string[] = [metrics.render().trimEnd()];
    lines.push('# HELP gateway_member_in_flight Statements running on a member.', '# TYPE gateway_member_in_flight gauge');
    lines.push('# HELP gateway_member_healthy 1 when the member is not ejected.', '# TYPE gateway_member_healthy gauge');
    for (const { table } of routing.snapshot()) {
      for (const address of new Set([...table.writers, ...table.readers])) {
        const s = routing.memberState(table.cluster, address);
        const l = `{cluster="${table.cluster}",member="${address}"}`;
        lines.push(`gateway_member_in_flight${l} ${s.inFlight}`, `gateway_member_healthy${l} ${s.healthy ? 1 : 0}`);
      }
    }
    lines.push('# HELP gateway_open_transactions Explicit transactions open on this instance.', '# TYPE gateway_open_transactions gauge', `gateway_open_transactions ${transactions.size}`);
    lines.push('# HELP gateway_discoveries_total Routing-table discoveries made by this instance.', '# TYPE gateway_discoveries_total counter', `gateway_discoveries_total ${routing.discoveries}`);
    return c.text(lines.join('\n') + '\n', 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
  });

  // ---- Query API ----
  const requestRegion = (c: Context): { region: string; pinned: boolean } => {
    const pinned = c.req.header(REGION_HEADER);
    if (pinned !== undefined && pinned !== '') return { region: assertRegion(topology, pinned.trim()), pinned: true };
    const rt = deps.runtimeRegion?.(c.req.raw);
    if (rt !== undefined && Object.hasOwn(topology.regions, rt)) return { region: rt, pinned: false };
    return { region: topology.defaultRegion, pinned: false };
  };

  const readBody = async (c: Context, requireStatement: boolean): Promise<QueryRequest> => {
    const text = await c.req.text();
    return parseQueryRequest(text, c.req.header('content-type'), { requireStatement });
  };

  /** resolves {db} to one shard (composites arrive with federation) */
  const singleShard = (db: string): string => {
    const target = resolveDatabase(topology, db);
    if (target.kind === 'composite') {
      throw new GatewayError('Neo.ClientError.Gateway.FederationNotSupported', `'${db}' is a composite database; queries on composites are not supported by this gateway version yet. Query one of its shards: ${target.shards.join(', ')}.`, { status: 400 });
    }
    return target.shard;
  };

  const decodeClientBookmarks = (tokens: string[]) => {
    const decoded = decodeBookmarks(tokens);
    if (decoded.invalid.length > 0) {
      throw new GatewayError('Neo.ClientError.Transaction.InvalidBookmark', `Invalid bookmark: ${decoded.invalid[0]!.slice(0, 64)}`, { status: 400 });
    }
    return decoded;
  };

  const respond = (c: Context, status: 200 | 202, body: string, typed: boolean, routes: Route[]): Response => {
    const headers: Record<string, string> = { 'content-type': typed ? TYPED_JSON : 'application/json' };
    if (routes.length > 0) {
      headers['x-gateway-route'] = routeHeader(routes);
      headers['x-gateway-cache'] = [...new Set(routes.map((r) => r.cache))].join(', ');
    }
    return c.body(body, status, headers);
  };

  const recordShard = (route: Route, outcome: string, attempts: number) => {
    metrics.shardRequests.inc({ shard: route.shard, role: route.role, region: route.region, outcome });
    metrics.routingTables.inc({ source: route.cache });
    if (attempts > 1) metrics.retries.inc({ shard: route.shard }, attempts - 1);
  };

  const runFederated = async (c: Context<Env>, db: string, req: QueryRequest, typed: boolean): Promise<Response> => {
    ApiKeyAuth.authorize(c.get('principal'), db, req.accessMode);
    const { region, pinned } = requestRegion(c);
    const sent = decodeClientBookmarks(req.bookmarks);
    const headerKey = c.req.header(SHARD_KEY_HEADER);
    const shardKey = headerKey !== undefined && headerKey !== '' ? headerKey : req.shardKey;
    const out = await federated.run({
      composite: db,
      statement: req.statement,
      parameters: req.parameters,
      accessMode: req.accessMode,
      bookmarks: sent,
      region,
      pinned,
      ...(shardKey !== undefined ? { shardKey } : {}),
      allowPartial: (c.req.header(PARTIAL_HEADER) ?? '').toLowerCase() === 'allow',
      deadline: c.get('started') + topology.limits.requestDeadlineMs,
      ...(topology.limits.shardDeadlineMs !== undefined ? { shardDeadline: c.get('started') + topology.limits.shardDeadlineMs } : {}),
      maxRows: topology.limits.maxRows,
      timeoutMs: Math.min(req.maxExecutionTime ?? topology.limits.queryTimeoutMs, topology.limits.queryTimeoutMs),
      ...(req.impersonatedUser !== undefined ? { impersonatedUser: req.impersonatedUser } : {}),
    });
    if (out.result.values.length > topology.limits.maxRows) {
      throw new GatewayError(Codes.ResultTooLarge, `The merged result has more than ${topology.limits.maxRows} rows, the most this gateway returns. Add a LIMIT.`);
    }
    for (const r of out.routes) recordShard(r, 'ok', 1);
    metrics.fanout.observe({ database: db }, out.width);
    const bookmarks = encodeBookmarks(mergeBookmarks(sent.shards, out.shardBookmarks));
    const extra = out.missing.length > 0 ? { gateway: { missingShards: out.missing } } : undefined;
    const res = respond(c, 202, encodeQueryResponse({ result: out.result, bookmarks, includeCounters: req.includeCounters, typed, ...(extra ? { extra } : {}) }), typed, out.routes);
    if (out.missing.length > 0) res.headers.set('x-gateway-missing-shards', out.missing.map((m) => m.shard).join(', '));
    return res;
  };

  app.post('/db/:db/query/v2', limit, authenticate, async (c) => {
    const db = c.req.param('db');
    const typed = responseKind(c);
    const req = await readBody(c, true);
    if (resolveDatabase(topology, db).kind === 'composite') return runFederated(c, db, req, typed);
    const shard = singleShard(db);
    ApiKeyAuth.authorize(c.get('principal'), db, req.accessMode);
    const { region, pinned } = requestRegion(c);
    const sent = decodeClientBookmarks(req.bookmarks);
    const started = c.get('started');
    const { result, route, attempts } = await executor.run({
      shard,
      statement: req.statement,
      parameters: req.parameters,
      accessMode: req.accessMode,
      bookmarks: bookmarksFor(sent, shard),
      region,
      pinned,
      maxRows: topology.limits.maxRows,
      timeoutMs: Math.min(req.maxExecutionTime ?? topology.limits.queryTimeoutMs, topology.limits.queryTimeoutMs),
      ...(req.impersonatedUser !== undefined ? { impersonatedUser: req.impersonatedUser } : {}),
      deadline: started + topology.limits.requestDeadlineMs,
    });
    recordShard(route, 'ok', attempts);
    const bookmarks = encodeBookmarks(mergeBookmarks(sent.shards, { [shard]: result.bookmarks }));
    return respond(c, 202, encodeQueryResponse({ result, bookmarks, includeCounters: req.includeCounters, typed }), typed, [route]);
  });

  // ---- explicit transactions ----
  const txResponse = (c: Context, tx: { id: string; expiresAt: number }, result: RunResult | undefined, includeCounters: boolean, typed: boolean, routes: Route[]) => {
    const body: Record<string, unknown> = result ? (JSON.parse(encodeQueryResponse({ result, bookmarks: null, includeCounters, typed })) as Record<string, unknown>) : {};
    body.transaction = { id: tx.id, expires: new Date(tx.expiresAt).toISOString() };
    const res = respond(c, 202, JSON.stringify(body), typed, routes);
    res.headers.set(AFFINITY_HEADER, instanceId);
    return res;
  };

  // ---- explicit transactions held by Neo4j (HTTP transports: Workers) ----
  const remote = !transport.begin && transport.remoteTransactions ? transport.remoteTransactions : undefined;
  const txTokens = remote ? new TxTokens(deps.txSecret ?? 'neo4j-edge-gateway') : undefined;
  const remoteBody = (result: RunResult | undefined, typed: boolean, includeCounters: boolean, extra: Record<string, unknown>): string => {
    const body: Record<string, unknown> = result ? (JSON.parse(encodeQueryResponse({ result, bookmarks: null, includeCounters, typed })) as Record<string, unknown>) : {};
    return JSON.stringify({ ...body, ...extra });
  };
  if (remote && txTokens) {
    app.post('/db/:db/query/v2/tx', limit, authenticate, async (c) => {
      const typed = responseKind(c);
      const db = c.req.param('db');
      const req = await readBody(c, false);
      if (resolveDatabase(topology, db).kind === 'composite') {
        throw new GatewayError('Neo.ClientError.Gateway.FederationNotSupported', `Explicit transactions on composite '${db}' are not supported; send auto-commit requests to /db/${db}/query/v2, or open the transaction on one shard.`, { status: 400 });
      }
      const shard = singleShard(db);
      const principal = c.get('principal');
      ApiKeyAuth.authorize(principal, db, req.accessMode);
      const { region, pinned } = requestRegion(c);
      const sent = decodeClientBookmarks(req.bookmarks);
      const s = topology.shards[shard]!;
      const route = await routing.route({ shard, mode: req.accessMode, region, pinned });
      const begun = await remote.begin(route.member, {
        database: s.database,
        accessMode: req.accessMode,
        bookmarks: bookmarksFor(sent, shard),
        maxRows: topology.limits.maxRows,
        ...(req.statement.trim() !== '' ? { statement: req.statement, parameters: req.parameters } : {}),
        timeoutMs: Math.min(req.maxExecutionTime ?? topology.limits.queryTimeoutMs, topology.limits.queryTimeoutMs),
        ...(req.impersonatedUser !== undefined ? { impersonatedUser: req.impersonatedUser } : {}),
      });
      const id = await txTokens.sign({ c: route.member.cluster, a: route.member.address, d: s.database, s: shard, g: db, i: begun.id, ...(begun.affinity ? { f: begun.affinity } : {}), p: principal.id });
      recordShard(route, 'begin', 1);
      return respond(c, 202, remoteBody(begun.result, typed, req.includeCounters, { transaction: { id, expires: begun.expires } }), typed, [route]);
    });
    const txOf = async (c: Context<Env>) => {
      const db = c.req.param('db') ?? '';
      const tx = await txTokens.verify(c.req.param('id') ?? '', c.get('principal').id, db);
      const member = { cluster: tx.c, address: tx.a };
      const route: Route = { shard: tx.s, member, role: 'WRITE', region: topology.clusters[tx.c]?.members[tx.a]?.region ?? topology.defaultRegion, cache: 'memory' };
      return { tx, member, route, id: c.req.param('id') ?? '' };
    };
    app.post('/db/:db/query/v2/tx/:id', limit, authenticate, async (c) => {
      const typed = responseKind(c);
      const req = await readBody(c, true);
      const { tx, member, route, id } = await txOf(c);
      const out = await remote.run(member, tx.d, tx.i, tx.f, req.statement, req.parameters, topology.limits.maxRows);
      return respond(c, 202, remoteBody(out.result, typed, req.includeCounters, { transaction: { id, expires: out.expires ?? new Date(now() + topology.limits.transactionIdleMs).toISOString() } }), typed, [route]);
    });
    app.post('/db/:db/query/v2/tx/:id/commit', limit, authenticate, async (c) => {
      const typed = responseKind(c);
      const req = await readBody(c, false);
      const { tx, member, route } = await txOf(c);
      const out = await remote.commit(member, tx.d, tx.i, tx.f, req.statement.trim() !== '' ? { statement: req.statement, parameters: req.parameters, maxRows: topology.limits.maxRows } : undefined);
      const bookmarks = encodeBookmarks({ [tx.s]: out.bookmarks });
      const body = out.result ? encodeQueryResponse({ result: out.result, bookmarks, includeCounters: req.includeCounters, typed }) : JSON.stringify({ bookmarks });
      return respond(c, 202, body, typed, [route]);
    });
    app.delete('/db/:db/query/v2/tx/:id', authenticate, async (c) => {
      const { tx, member } = await txOf(c);
      await remote.rollback(member, tx.d, tx.i, tx.f);
      return c.body(null, 200);
    });
  }

  app.post('/db/:db/query/v2/tx', limit, authenticate, async (c) => {
    const typed = responseKind(c);
    if (!transport.begin) {
      throw new GatewayError('Neo.ClientError.Gateway.TransactionsNotSupported', 'Explicit transactions are not available on this runtime; send each statement to /db/{db}/query/v2.', { status: 501 });
    }
    const db = c.req.param('db');
    const req = await readBody(c, false);
    if (resolveDatabase(topology, db).kind === 'composite') {
      throw new GatewayError('Neo.ClientError.Gateway.FederationNotSupported', `Explicit transactions on composite '${db}' are not supported; send auto-commit requests to /db/${db}/query/v2, or open the transaction on one shard.`, { status: 400 });
    }
    const shard = singleShard(db);
    const principal = c.get('principal');
    ApiKeyAuth.authorize(principal, db, req.accessMode);
    const { region, pinned } = requestRegion(c);
    const sent = decodeClientBookmarks(req.bookmarks);
    const s = topology.shards[shard]!;
    const route = await routing.route({ shard, mode: req.accessMode, region, pinned });
    const handle = await transport.begin(route.member, {
      database: s.database,
      accessMode: req.accessMode,
      bookmarks: bookmarksFor(sent, shard),
      timeoutMs: Math.min(req.maxExecutionTime ?? topology.limits.queryTimeoutMs, topology.limits.queryTimeoutMs),
      ...(req.impersonatedUser !== undefined ? { impersonatedUser: req.impersonatedUser } : {}),
    });
    const tx = transactions.add({ principal: principal.id, database: db, shard, mode: req.accessMode, handle, route, sentBookmarks: sent.shards });
    recordShard(route, 'begin', 1);
    let result: RunResult | undefined;
    if (req.statement.trim() !== '') {
      tx.busy = true;
      try {
        result = await handle.run(req.statement, req.parameters, topology.limits.maxRows);
      } catch (err) {
        transactions.remove(tx);
        await handle.rollback();
        throw err;
      } finally {
        transactions.release(tx);
      }
    }
    return txResponse(c, tx, result, req.includeCounters, typed, [route]);
  });

  app.post('/db/:db/query/v2/tx/:id', limit, authenticate, async (c) => {
    const db = c.req.param('db');
    const typed = responseKind(c);
    const req = await readBody(c, true);
    const tx = transactions.take(c.req.param('id'), c.get('principal').id, db);
    try {
      const result = await tx.handle.run(req.statement, req.parameters, topology.limits.maxRows);
      if (result.error) {
        transactions.remove(tx);
        await tx.handle.rollback();
      }
      return txResponse(c, tx, result, req.includeCounters, typed, [tx.route]);
    } catch (err) {
      // Neo4j rolls a transaction back on any error
      transactions.remove(tx);
      await tx.handle.rollback();
      throw err;
    } finally {
      transactions.release(tx);
    }
  });

  app.post('/db/:db/query/v2/tx/:id/commit', limit, authenticate, async (c) => {
    const db = c.req.param('db');
    const typed = responseKind(c);
    const req = await readBody(c, false);
    const tx = transactions.take(c.req.param('id'), c.get('principal').id, db);
    transactions.remove(tx);
    let result: RunResult | undefined;
    try {
      if (req.statement.trim() !== '') result = await tx.handle.run(req.statement, req.parameters, topology.limits.maxRows);
    } catch (err) {
      await tx.handle.rollback();
      throw err;
    }
    if (result?.error) {
      await tx.handle.rollback();
      return respond(c, 202, encodeQueryResponse({ result, bookmarks: null, includeCounters: req.includeCounters, typed }), typed, [tx.route]);
    }
    const bm = await tx.handle.commit();
    const bookmarks = encodeBookmarks(mergeBookmarks(tx.sentBookmarks, { [tx.shard]: bm }));
    const body = result
      ? encodeQueryResponse({ result, bookmarks, includeCounters: req.includeCounters, typed })
      : JSON.stringify({ bookmarks });
    return respond(c, 202, body, typed, [tx.route]);
  });

  app.delete('/db/:db/query/v2/tx/:id', authenticate, async (c) => {
    const db = c.req.param('db') ?? '';
    const tx = transactions.take(c.req.param('id') ?? '', c.get('principal').id, db);
    transactions.remove(tx);
    await tx.handle.rollback();
    return c.body(null, 200);
  });

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
        const r = await executor.run({ ...common, shard: target.shard, bookmarks: bookmarksFor(info.sent, target.shard) });
        recordShard(r.route, 'ok', r.attempts);
        info.routes.push(r.route);
        if (r.result.bookmarks.length) info.touched[target.shard] = r.result.bookmarks;
        if (r.result.error) throw new GatewayError(r.result.error.code, r.result.error.message);
        return r.result;
      }
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
  const graphql = deps.graphqlSchema !== undefined ? createGraphQL(topology, deps.graphqlSchema, cypher, runForGraphQL) : undefined;
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
      principal: principal ?? { id: 'graphiql', databases: new Set(), modes: new Set() },
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
    if (persisted && c.req.method === 'POST') {
      // GraphQL-over-HTTP persisted documents: {"documentId": "<sha256>"} stands for the document
      const text = await c.req.text();
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
    if (info.routes.length > 0) {
      headers.set('x-gateway-route', routeHeader(info.routes));
      headers.set('x-gateway-cache', [...new Set(info.routes.map((r) => r.cache))].join(', '));
    }
    const bm = encodeBookmarks(mergeBookmarks(info.sent.shards, info.touched));
    if (bm.length > 0) headers.set('x-neo4j-bookmarks', bm.join(','));
    return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
  };
  app.get('/graphql', graphqlHandler);
  app.post('/graphql', limit, graphqlHandler);

  return {
    app,
    ready: graphql ? graphql.then(() => undefined) : Promise.resolve(),
    routing,
    metrics,
    transactions,
    async close() {
      await transactions.closeAll();
    },
  };
}
