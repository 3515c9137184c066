/**
 * createGateway(deps): the gateway's HTTP surface (hono), runtime-neutral. Adapters build the
 * transport and cache and hand them in; nothing here touches a runtime API. The routes live in
 * routes/ (ops, Query API, explicit transactions, GraphQL) and share the parts of kit.ts.
 */
import { Hono } from 'hono';
import { LinearRouter } from 'hono/router/linear-router';
import { cors } from 'hono/cors';
import type { Topology } from '../config/schema.js';
import type { Cache } from '../cache/types.js';
import { Codes, GatewayError, toGatewayError } from '../errors/index.js';
import type { Router } from '../routing/router.js';
import type { RoutingState } from '../routing/types.js';
import type { Transport } from '../transport/types.js';
import type { StatementAnalyzer } from '../cypher/analyzer.js';
import type { Sha256 } from './auth.js';
import type { Metrics } from './metrics.js';
import type { TransactionRegistry } from './transactions.js';
import { createKit, errorResponse, type GatewayEnv } from './kit.js';
import { registerOps } from './routes/ops.js';
import { registerQuery } from './routes/query.js';
import { registerTransactions } from './routes/transactions.js';
import { registerGraphQL } from './routes/graphql.js';

export type { GatewayEnv };

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
  /**
   * the TCP peer's address of a request (Node: the socket's remote address); forwarded headers
   * are believed only from peers in http.trustedProxies. Absent (Workers): never believed
   */
  peerAddress?: (request: Request) => string | undefined;
  /** identifies this instance in `neo4j-cluster-affinity` */
  instanceId?: string;
  /** routing tables and member health to keep across gateway objects (Workers: per isolate) */
  routingState?: RoutingState;
  /** background work the runtime must finish (Workers: ctx.waitUntil) */
  waitUntil?: (work: Promise<unknown>) => void;
  /** signs ids of transactions Neo4j holds (HTTP transports); must be the same on every instance */
  txSecret?: string;
  /**
   * "compiled" (default): hono's RegExpRouter, fastest matching for an app built once (Node);
   * "linear": no compile step, for runtimes that build the app per request (Workers)
   */
  router?: 'compiled' | 'linear';
  /** names the runtime in /health ("node", "worker") */
  runtime?: string;
  /** keep metrics across gateway objects (Workers: one registry per isolate) */
  metrics?: Metrics;
  /** reuse one statement analyzer (and its cache) across gateway objects (Workers: per isolate) */
  analyzer?: StatementAnalyzer;
  now?: () => number;
  /** GraphQL SDL with @cypher fields; absent: /graphql answers 404 */
  graphqlSchema?: string;
  /** SHA-256 for API keys (default: crypto.subtle) */
  sha256?: Sha256;
  /** called with errors that produced a 5xx (for logs); never sent to clients */
  onInternalError?: (err: unknown) => void;
}

export interface Gateway {
  app: Hono<GatewayEnv>;
  /** resolves when everything built asynchronously (the GraphQL schema) is ready; rejects on a bad schema */
  ready: Promise<void>;
  routing: Router;
  metrics: Metrics;
  transactions: TransactionRegistry;
  close(): Promise<void>;
}

type Env = GatewayEnv;


export function createGateway(deps: GatewayDeps): Gateway {
  const kit = createKit(deps);
  const { metrics, now, wantsTyped, routing, transactions } = kit;
  const app = deps.router === 'linear' ? new Hono<Env>({ router: new LinearRouter() }) : new Hono<Env>();

  app.onError((err, c) => {
    const ge = toGatewayError(err);
    if (ge.status >= 500 && ge.code === Codes.Internal) deps.onInternalError?.(err);
    metrics.errors.inc({ code: ge.code });
    return errorResponse(ge, wantsTyped(c));
  });
  app.notFound((c) => errorResponse(new GatewayError(Codes.NotFound, `No such resource: ${c.req.method} ${new URL(c.req.url).pathname}`), false));

  // metrics for every request
  app.use('*', async (c, next) => {
    const started = now();
    c.set('started', started);
    await next();
    const route = c.req.routePath || 'unmatched';
    metrics.requests.inc({ route, method: c.req.method, status: String(c.res.status) });
    metrics.latency.observe({ route }, (now() - started) / 1000);
  });

  // browsers (apps calling GraphQL or the Query API) may call from the configured origins
  const origins = deps.topology.cors.origins;
  if (origins.length > 0) {
    app.use(
      '*',
      cors({
        origin: origins.includes('*') ? '*' : origins,
        allowMethods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
        allowHeaders: ['authorization', 'content-type', 'accept', 'x-neo4j-region', 'x-neo4j-shard-key', 'x-neo4j-bookmarks', 'x-gateway-partial', 'neo4j-cluster-affinity'],
        exposeHeaders: ['x-gateway-route', 'x-gateway-cache', 'x-gateway-missing-shards', 'x-neo4j-bookmarks', 'neo4j-cluster-affinity'],
        maxAge: 600,
      }),
    );
  }

  registerOps(app, kit);
  registerQuery(app, kit);
  registerTransactions(app, kit);
  const ready = registerGraphQL(app, kit);

  return {
    app,
    ready,
    routing,
    metrics,
    transactions,
    async close() {
      await transactions.closeAll();
    },
  };
}
