/**
 * The parts every route of the gateway shares, built once per gateway: routing, executors, auth,
 * metrics, and the small request helpers (region, body, bookmarks, responses).
 */
import { type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { Codes, GatewayError } from '../errors/index.js';
import { assertRegion, resolveDatabase } from '../topology/index.js';
import { Router } from '../routing/router.js';
import type { Route } from '../routing/types.js';
import { ShardExecutor } from '../routing/executor.js';
import { decodeBookmarks } from '../routing/bookmarks.js';
import { FederatedExecutor } from '../federation/execute.js';
import { StatementAnalyzer } from '../cypher/analyzer.js';
import { StatementGate, type Neo4jVerdict } from './statement-gate.js';
import { ApiKeyAuth, type Principal } from './auth.js';
import { TYPED_JSON, isTypedMedia, negotiate, parseQueryRequest, type QueryRequest } from './codec.js';
import { Metrics } from './metrics.js';
import { TransactionRegistry } from './transactions.js';
import { Admission, limitStateFor } from '../limits/admission.js';
import type { GatewayDeps } from './app.js';

export type GatewayEnv = { Variables: { principal: Principal; started: number } };
type Env = GatewayEnv;

export const REGION_HEADER = 'x-neo4j-region';
export const SHARD_KEY_HEADER = 'x-neo4j-shard-key';
export const PARTIAL_HEADER = 'x-gateway-partial';
export const AFFINITY_HEADER = 'neo4j-cluster-affinity';

export function errorResponse(err: GatewayError, typed: boolean): Response {
  // request-shape errors are always plain JSON, as Neo4j answers them
  const asTyped = typed && err.code !== Codes.RequestInvalid;
  const headers: Record<string, string> = { 'content-type': asTyped ? TYPED_JSON : 'application/json', ...err.headers };
  return new Response(JSON.stringify(err.toBody()), { status: err.status, headers });
}

/** x-gateway-route and x-gateway-cache for the shards a request touched (none: no headers) */
export function routeHeaders(routes: Route[]): Record<string, string> {
  if (routes.length === 0) return {};
  return {
    'x-gateway-route': routes.map((r) => `${r.shard}=${r.member.address};${r.role};${r.region}`).join(', '),
    'x-gateway-cache': [...new Set(routes.map((r) => r.cache))].join(', '),
  };
}

export type Kit = ReturnType<typeof createKit>;

/**
 * Neo4j's verdict on a statement the gateway could not parse: its own error, a client error
 * (Neo4j answers some lexical errors, e.g. an unterminated comment, as a DatabaseError).
 */
function asSyntaxError(err: { code: string; message: string }): { code: string; message: string } {
  return err.code.startsWith('Neo.ClientError.') ? { code: err.code, message: err.message } : { code: Codes.SyntaxError, message: err.message };
}

export function createKit(deps: GatewayDeps) {
  const { topology, transport } = deps;
  const now = deps.now ?? Date.now;
  const instanceId = deps.instanceId ?? 'gw';
  const routing = new Router(topology, transport, deps.sharedCache, {
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
  const analyzer =
    deps.analyzer ??
    new StatementAnalyzer(
      {
        maxStatementBytes: topology.limits.maxStatementBytes,
        parseBudgetMs: topology.limits.parseBudgetMs,
        cacheEntries: topology.limits.analysisCacheEntries,
        cacheBytes: topology.limits.analysisCacheBytes,
      },
      now,
    );
  /** Neo4j's own EXPLAIN (runs nothing) words the errors of statements the gateway cannot parse */
  const verdict: Neo4jVerdict = async (shard, statement) => {
    try {
      const { result } = await executor.run({
        shard,
        statement: `EXPLAIN ${statement}`,
        parameters: {},
        accessMode: 'READ',
        bookmarks: [],
        region: topology.defaultRegion,
        pinned: false,
        maxRows: 1,
        deadline: now() + topology.limits.requestDeadlineMs,
      });
      return result.error && asSyntaxError(result.error);
    } catch (err) {
      if (err instanceof GatewayError && (err.code.startsWith('Neo.ClientError.') || err.code.startsWith('Neo.DatabaseError.'))) return asSyntaxError(err);
      throw err;
    }
  };
  const gate = new StatementGate(topology, analyzer, verdict);
  const federated = new FederatedExecutor(topology, executor, analyzer);
  const metrics = deps.metrics ?? new Metrics();
  const transactions = new TransactionRegistry(topology.limits.transactionIdleMs, now);

  const wantsTyped = (c: Context) => negotiate(c.req.header('accept')) === 'typed';
  /** the response media type; 406 when the client accepts none we speak */
  const responseKind = (c: Context): boolean => {
    const kind = negotiate(c.req.header('accept'));
    if (!kind) throw new GatewayError(Codes.RequestInvalid, `Not Acceptable: this endpoint answers application/json or ${TYPED_JSON}.`, { status: 406 });
    return kind === 'typed';
  };

  const limit = bodyLimit({
    maxSize: topology.limits.maxBodyBytes,
    // the rest of the body is never read: close the connection so no client reuses it mid-body
    onError: (c) =>
      errorResponse(
        new GatewayError(Codes.PayloadTooLarge, `Request body is larger than ${topology.limits.maxBodyBytes} bytes.`, { headers: { connection: 'close' } }),
        isTypedMedia(c.req.header('accept')),
      ),
  });

  // per-key concurrency and fleet-wide rate, remembered as long as the routing state (Workers: per isolate)
  const admission = new Admission({ state: limitStateFor(deps.routingState ?? deps, instanceId), limits: topology.limits, store: deps.sharedCache, schedule: deps.waitUntil, now });

  /** the key, then its admission (429 past its concurrency or rate); the slot is freed when the response is done */
  const authenticate = async (c: Context<Env>, next: () => Promise<void>) => {
    const principal = await auth.authenticate(c.req.header('authorization'));
    c.set('principal', principal);
    const release = admission.admit(principal);
    try {
      await next();
    } finally {
      release();
    }
  };

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
    return parseQueryRequest(text, c.req.header('content-type'), { requireStatement, maxJsonDepth: topology.limits.maxJsonDepth });
  };

  /** resolves {db} to one shard; a composite here (explicit transactions) is refused */
  const singleShard = (db: string): string => {
    const target = resolveDatabase(topology, db);
    if (target.kind === 'composite') {
      throw new GatewayError(Codes.FederationNotSupported, `Explicit transactions on composite '${db}' are not supported; send auto-commit requests to /db/${db}/query/v2, or open the transaction on one shard (${target.shards.join(', ')}).`);
    }
    return target.shard;
  };

  const decodeClientBookmarks = (tokens: string[]) => {
    const decoded = decodeBookmarks(tokens);
    if (decoded.invalid.length > 0) {
      throw new GatewayError(Codes.InvalidBookmark, `Invalid bookmark: ${decoded.invalid[0]!.slice(0, 64)}`);
    }
    return decoded;
  };

  const respond = (c: Context, status: 200 | 202, body: string, typed: boolean, routes: Route[]): Response =>
    c.body(body, status, { 'content-type': typed ? TYPED_JSON : 'application/json', ...routeHeaders(routes) });

  const recordShard = (route: Route, outcome: string, attempts: number) => {
    metrics.shardRequests.inc({ shard: route.shard, role: route.role, region: route.region, outcome });
    metrics.routingTables.inc({ source: route.cache });
    if (attempts > 1) metrics.retries.inc({ shard: route.shard }, attempts - 1);
  };


  return {
    deps,
    topology,
    transport,
    now,
    instanceId,
    routing,
    executor,
    auth,
    analyzer,
    gate,
    admission,
    federated,
    metrics,
    transactions,
    wantsTyped,
    responseKind,
    limit,
    authenticate,
    requestRegion,
    readBody,
    singleShard,
    decodeClientBookmarks,
    respond,
    recordShard,
  };
}
