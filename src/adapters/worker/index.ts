/**
 * Cloudflare Worker adapter: the same createGateway() as Node, with one of three transports
 * (GATEWAY_TRANSPORT): Neo4j's Query API over fetch (default), Bolt over WebSocket connected per
 * request, or Bolt connections kept by a Durable Object (bolt-pool.ts). The gateway (routes,
 * services, GraphQL schema, routing tables, statement analyses) is built once per isolate and
 * configuration; every I/O object (transport, Redis client) is made per request and reached
 * through the request's async context (request-io.ts), since workerd refuses I/O objects shared
 * between requests.
 *
 * Bindings (read and checked in bindings.ts): GATEWAY_CONFIG (the topology JSON; required), the
 * password variables the topology names and the fleet secret (secrets.fleetSecretEnv, default
 * GATEWAY_SECRET) as Worker secrets, GATEWAY_REGION (optional: overrides the region taken from
 * request.cf), the BOLT_POOL Durable Object namespace.
 *
 * A Worker that is not fully configured serves nothing: every route but /health answers 500 with
 * the problem (never a value), instead of falling back to a sample topology or a weaker secret.
 */
import { Codes } from '../../errors/index.js';
import bundledSchema from '../../../schema/demo.graphql';
import { ConfigError, type Topology } from '../../config/load.js';
import { GATEWAY_VERSION } from '../../config/version.js';
import { createGateway, type Gateway } from '../../http/app.js';
import { createLogger } from '../../telemetry/log.js';
import { nearestRegion } from '../../topology/index.js';
import { QueryApiTransport } from '../../transport/query-api.js';
import { RedisCache } from '../../cache/redis.js';
import type { Transport } from '../../transport/types.js';
import { configure, credentialsOf, type Configured, type TransportKind, type WorkerEnv } from './bindings.js';
import { boltTransportOf } from './bolt-pool.js';
import { pooledBolt } from './pool-rpc.js';
import { currentCache, currentTransport, waitUntilCurrent, withRequestIO, type RequestIO } from './request-io.js';

// the Durable Object class wrangler.toml binds as BOLT_POOL (GATEWAY_TRANSPORT=bolt-pooled)
export { BoltPool } from './bolt-pool.js';
export type { WorkerEnv } from './bindings.js';

interface ExecutionContextLike {
  waitUntil(work: Promise<unknown>): void;
}

// per isolate: the gateway built from the configuration read last
let built: { config: Configured; gateway: Gateway } | undefined;

const json = (body: unknown, status: number) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

function regionOf(topology: Topology, request: Request, env: WorkerEnv): string | undefined {
  if (env.GATEWAY_REGION) return env.GATEWAY_REGION;
  const cf = (request as Request & { cf?: { latitude?: string | number; longitude?: string | number } }).cf;
  const lat = Number(cf?.latitude);
  const lon = Number(cf?.longitude);
  return Number.isFinite(lat) && Number.isFinite(lon) && cf?.latitude !== undefined ? nearestRegion(topology, { lat, lon }) : undefined;
}

/** the gateway of this isolate for `config` (built on first use, and again when the configuration changes) */
function gatewayFor(config: Configured, env: WorkerEnv): Gateway {
  if (
    built &&
    built.config.topology === config.topology &&
    built.config.secret === config.secret &&
    built.config.redisUrl === config.redisUrl &&
    built.config.transport === config.transport
  ) {
    return built.gateway;
  }
  const { topology, secret, redisUrl } = config;
  const sdl = env.GATEWAY_GRAPHQL_SCHEMA ?? (topology.graphql.schema.length > 0 ? bundledSchema : undefined);
  const gateway = createGateway({
    topology,
    ...(sdl !== undefined ? { graphqlSchema: sdl } : {}),
    transport: currentTransport(config.transport !== 'bolt'),
    ...(redisUrl && secret ? { sharedCache: currentCache() } : {}),
    instanceId: 'worker',
    runtime: 'worker',
    ...(secret ? { txSecret: secret } : {}),
    waitUntil: waitUntilCurrent,
    runtimeRegion: (request) => regionOf(topology, request, env),
    // console lines are what `wrangler tail` shows
    logger: createLogger({
      level: topology.observability.logLevel,
      format: topology.observability.logFormat,
      write: (line, level) => (level === 'error' ? console.error(line) : console.log(line)),
    }),
  });
  built = { config, gateway };
  return gateway;
}

/** the transport of one request (its connections close with it; a Bolt pool's stay with the pool) */
function requestTransport(config: Configured, env: WorkerEnv): Transport {
  const kind: TransportKind = config.transport;
  if (kind === 'bolt') {
    const bolt = boltTransportOf(config);
    // no explicit transactions: a Bolt transaction would have to outlive this request
    return { run: (m, r) => bolt.run(m, r), fetchRoutingTable: (c, r, d, x) => bolt.fetchRoutingTable(c, r, d, x), close: () => bolt.close() };
  }
  const { topology } = config;
  const queryApi = () =>
    new QueryApiTransport({
      credentials: credentialsOf(config),
      httpOf: (cluster, address) => topology.clusters[cluster]?.members[address]?.http,
      maxResultBytes: topology.limits.maxResultBytes,
    });
  if (kind === 'query-api') return queryApi();
  // bolt-pooled: statements and routing tables on the pool's connections; explicit transactions
  // are held by Neo4j (the Query API, made when a request needs one), as with query-api
  let pool = pooled.get(config);
  if (!pool) pooled.set(config, (pool = pooledBolt(env.BOLT_POOL!, config.poolObjects)));
  let transactions: QueryApiTransport | undefined;
  return {
    ...pool,
    get remoteTransactions() {
      return (transactions ??= queryApi()).remoteTransactions;
    },
    close: async () => transactions?.close(),
  };
}

// per configuration (so per bindings object): the Worker's side of the Bolt pool, which keeps the objects' ids
const pooled = new WeakMap<Configured, Pick<Transport, 'run' | 'fetchRoutingTable'>>();

export default {
  async fetch(request: Request, env: WorkerEnv, ctx: ExecutionContextLike): Promise<Response> {
    let config: Configured;
    try {
      config = configure(env);
    } catch (err) {
      // the process is up (load balancers may probe it); nothing else is served
      if (new URL(request.url).pathname === '/health') return json({ status: 'up', version: GATEWAY_VERSION, runtime: 'worker' }, 200);
      const problems = err instanceof ConfigError ? err.problems : ['the configuration could not be read'];
      return json({ errors: [{ code: Codes.Internal, message: `Gateway configuration is invalid: ${problems.join('; ')}` }] }, 500);
    }
    const { topology, secret, redisUrl } = config;
    const gateway = gatewayFor(config, env);
    // I/O objects live for this request only: the transport (and its connections) and the Redis client
    const transport = requestTransport(config, env);
    const cache = redisUrl && secret ? new RedisCache({ url: redisUrl, keyPrefix: topology.cache.keyPrefix, secret, lazy: true, subscribe: false }) : undefined;
    const io: RequestIO = { transport, cache, waitUntil: (work) => ctx.waitUntil(work), background: [] };
    const response = await withRequestIO(io, async () => gateway.app.fetch(request));
    // close what this request opened once the response has gone out and its background work
    // (a table refresh, a member probe, the rate limit's exchange with Redis) has settled
    ctx.waitUntil(
      Promise.allSettled(io.background)
        .then(() => Promise.all([transport.close(), cache?.close()]))
        .catch(() => undefined),
    );
    return response;
  },
};
