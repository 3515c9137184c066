/**
 * The first middleware of every request, and the error handler: the request's identity
 * (x-request-id, W3C trace context, its server span), its clock, and when it is done its metrics
 * and its one log line. Errors become Neo4j-style responses here; an unexpected one is logged with
 * its stack (never sent) and masked as UnknownError.
 */
import type { Context, ErrorHandler, MiddlewareHandler } from 'hono';
import { Codes, GatewayError, toGatewayError } from '../../errors/index.js';
import type { LimitName } from '../../telemetry/gateway-metrics.js';
import { errorFields, type LogFields } from '../../telemetry/log.js';
import { endSpan, formatTraceparent, requestIdFrom, startRequestSpan, traceFrom, withContext } from '../../telemetry/trace.js';
import type { Principal } from '../auth.js';
import { negotiate } from '../codec.js';
import { REQUEST_ID_HEADER, TRACEPARENT_HEADER, type GatewayEnv } from '../context.js';
import { errorResponse } from '../respond.js';
import type { Services } from '../services.js';

/** refusals by one of the gateway's limits, by code */
const LIMIT_OF_CODE: Record<string, LimitName> = {
  [Codes.TooManyConcurrentRequests]: 'concurrency',
  [Codes.RateLimited]: 'rate',
  [Codes.TooManyTransactions]: 'transactions',
  [Codes.ResultTooLarge]: 'result_size',
  [Codes.StatementTooLarge]: 'statement_size',
  [Codes.StatementTooComplex]: 'statement_complexity',
  [Codes.PayloadTooLarge]: 'body_size',
  [Codes.AuthenticationRateLimit]: 'key_verifications',
};

const FEDERATION_REFUSALS = new Set<string>([Codes.FederationNotSupported, Codes.MultiShardWrite]);

/** the error of a request, kept for its log line and metrics (hono hands the handler's error to onError only) */
const failures = new WeakMap<Context, GatewayError>();

export function requestMiddleware(s: Services): MiddlewareHandler<GatewayEnv> {
  const { metrics, logger, now } = s;
  const shared = s.deps.sharedCache;
  let sharedHealthy = true;
  /** the shared cache going down or coming back is an event of its own (seen as requests use it) */
  const watchSharedCache = () => {
    if (!shared) return;
    const healthy = shared.healthy();
    if (healthy === sharedHealthy) return;
    sharedHealthy = healthy;
    if (healthy) logger.info('shared cache recovered', { kind: shared.kind });
    else logger.warn('shared cache degraded: serving from memory and discovering alone until it answers', { kind: shared.kind });
  };
  return async (c, next) => {
    const started = now();
    const id = requestIdFrom(c.req.header(REQUEST_ID_HEADER));
    const caller = traceFrom(c.req.header(TRACEPARENT_HEADER));
    const path = c.req.path;
    const { span, ctx, trace } = startRequestSpan(`${c.req.method} ${path}`, caller, {
      'http.request.method': c.req.method,
      'url.path': path,
      'gateway.request_id': id,
    });
    c.set('request', { id, trace, started, shards: [] });
    // children of a span nobody records would not record either: no context to carry then
    if (span.isRecording()) await withContext(ctx, next);
    else await next();
    const res = c.res;
    res.headers.set(REQUEST_ID_HEADER, id);
    res.headers.set(TRACEPARENT_HEADER, formatTraceparent(trace));
    const route = c.req.routePath || 'unmatched';
    const status = res.status;
    const rq = c.get('request');
    /** the request's metrics, span and log line, once its answer is done (a streamed one: once its body is written) */
    const record = (streamError: { code: string; message: string } | undefined) => {
      const seconds = (now() - started) / 1000;
      const error = failures.get(c) ?? (streamError ? new GatewayError(streamError.code, streamError.message) : undefined);
      metrics.requests.inc({ route, method: c.req.method, status: String(status) });
      metrics.latency.observe({ route }, seconds);
      let retries = 0;
      for (const t of rq.shards) {
        metrics.shardRequests.inc({ shard: t.route.shard, role: t.route.role, region: t.route.region, outcome: t.outcome });
        metrics.tableLookups.inc({ source: t.route.cache });
        if (t.attempts > 1) {
          metrics.retries.inc({ shard: t.route.shard }, t.attempts - 1);
          retries += t.attempts - 1;
        }
      }
      if (error) {
        metrics.errors.inc({ code: error.code });
        const limit = error.refused && 'limit' in error.refused ? error.refused.limit : LIMIT_OF_CODE[error.code];
        if (limit !== undefined) metrics.limitRefusals.inc({ limit });
        if (error.refused && 'need' in error.refused) metrics.policyRefusals.inc({ need: error.refused.need });
        if (FEDERATION_REFUSALS.has(error.code)) metrics.federationRefusals.inc();
      }
      endSpan(span, status, error?.code);
      const level = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
      if (logger.enabled(level)) {
        const principal = c.get('principal') as Principal | undefined;
        const fields: LogFields = {
          requestId: id,
          traceId: trace.traceId,
          key: principal?.id,
          method: c.req.method,
          route,
          database: rq.database,
          status,
          durationMs: Math.round(seconds * 1e6) / 1000,
          shards:
            rq.shards.length > 0
              ? rq.shards.map((t) => ({
                  shard: t.route.shard,
                  member: t.route.member.address,
                  role: t.route.role,
                  region: t.route.region,
                  attempts: t.attempts,
                }))
              : undefined,
          retries: retries > 0 ? retries : undefined,
          tableSource: rq.shards.length > 0 ? [...new Set(rq.shards.map((t) => t.route.cache))] : undefined,
          error: error?.code,
          streamed: rq.finished ? true : undefined,
          statement: s.topology.observability.logParameters ? rq.statement : undefined,
          parameters: s.topology.observability.logParameters ? rq.parameters : undefined,
        };
        logger.log(level, 'request', fields);
      }
      watchSharedCache();
    };
    if (rq.finished) void rq.finished.then(record, () => record(undefined));
    else record(undefined);
  };
}

export function errorHandler(s: Services): ErrorHandler<GatewayEnv> {
  return (err, c) => {
    const ge = toGatewayError(err);
    failures.set(c, ge);
    if (ge.code === Codes.Internal) {
      s.logger.error('unexpected error', {
        requestId: (c.get('request') as { id: string } | undefined)?.id,
        method: c.req.method,
        path: new URL(c.req.url).pathname,
        error: errorFields(err),
      });
    }
    return errorResponse(ge, c.get('typed') ?? negotiate(c.req.header('accept')) === 'typed');
  };
}

export function notFound(): (c: Context<GatewayEnv>) => Response {
  return (c) => {
    const err = new GatewayError(Codes.NotFound, `No such resource: ${c.req.method} ${new URL(c.req.url).pathname}`);
    failures.set(c, err);
    return errorResponse(err, false);
  };
}
