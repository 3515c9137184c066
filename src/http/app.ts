/**
 * createGateway(deps): the gateway's HTTP surface (hono), runtime-neutral and built once. The
 * services come from the composition root (services.ts); every request passes the request
 * middleware (identity, metrics, log line), and each route mounts the guards it needs
 * (middleware/guards.ts) before its handler (routes/).
 */
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import type { Router } from '../routing/router.js';
import type { GatewayMetrics } from '../telemetry/gateway-metrics.js';
import type { GatewayEnv } from './context.js';
import type { GatewayDeps } from './deps.js';
import { guards } from './middleware/guards.js';
import { errorHandler, notFound, requestMiddleware } from './middleware/request.js';
import { registerGraphQL } from './routes/graphql.js';
import { registerOps } from './routes/ops.js';
import { registerQuery } from './routes/query.js';
import { registerTransactions } from './routes/transactions.js';
import { buildServices } from './services.js';
import type { TransactionBackend } from './transactions/backend.js';

export type { GatewayDeps, GatewayEnv };

export interface Gateway {
  app: Hono<GatewayEnv>;
  /** resolves when everything built asynchronously (the GraphQL schema) is ready; rejects on a bad schema */
  ready: Promise<void>;
  routing: Router;
  metrics: GatewayMetrics;
  /** explicit transactions (none where the runtime cannot hold them) */
  transactions: TransactionBackend | undefined;
  close(): Promise<void>;
}

/** what CORS lets browsers send and read */
const CORS_REQUEST_HEADERS = [
  'authorization',
  'content-type',
  'accept',
  'x-neo4j-region',
  'x-neo4j-shard-key',
  'x-neo4j-bookmarks',
  'x-gateway-partial',
  'neo4j-cluster-affinity',
  'x-request-id',
  'traceparent',
];
const CORS_RESPONSE_HEADERS = [
  'x-gateway-route',
  'x-gateway-cache',
  'x-gateway-missing-shards',
  'x-neo4j-bookmarks',
  'neo4j-cluster-affinity',
  'x-request-id',
  'traceparent',
];

export function createGateway(deps: GatewayDeps): Gateway {
  const s = buildServices(deps);
  const g = guards(s);
  const app = new Hono<GatewayEnv>();
  app.onError(errorHandler(s));
  app.notFound(notFound());
  app.use('*', requestMiddleware(s));

  // browsers (apps calling GraphQL or the Query API) may call from the configured origins. A
  // request without an Origin header is no browser's cross-origin call: it skips the CORS
  // middleware, which would otherwise build the response twice (it sets headers on a response
  // before the handler makes the real one; measured at about 5% of the hot path's CPU)
  const origins = deps.topology.cors.origins;
  if (origins.length > 0) {
    const anyOrigin = origins.includes('*');
    const corsMiddleware = cors({
      origin: anyOrigin ? '*' : origins,
      allowMethods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
      allowHeaders: CORS_REQUEST_HEADERS,
      exposeHeaders: CORS_RESPONSE_HEADERS,
      maxAge: 600,
    });
    app.use('*', async (c, next) => {
      // preflights (OPTIONS) are answered as before, with or without an Origin
      if (c.req.header('origin') !== undefined || c.req.method === 'OPTIONS') return corsMiddleware(c, next);
      await next();
      // the answer depends on the Origin header: caches must not serve it to a browser's call
      if (!anyOrigin) c.res.headers.append('vary', 'Origin');
    });
  }

  registerOps(app, s, g);
  registerQuery(app, s, g);
  registerTransactions(app, s, g);
  const ready = registerGraphQL(app, s, g);

  return {
    app,
    ready,
    routing: s.router,
    metrics: s.metrics,
    transactions: s.transactions,
    async close() {
      await s.transactions?.close();
    },
  };
}
