/**
 * Cloudflare Worker adapter: the same createGateway() as Node, with the Query API transport over
 * fetch. The gateway (routes, services, GraphQL schema, routing tables, statement analyses) is
 * built once per isolate and configuration; every I/O object (transport, Redis client) is made
 * per request and reached through the request's async context (request-io.ts), since workerd
 * refuses I/O objects shared between requests.
 *
 * Bindings: GATEWAY_CONFIG (the topology JSON; required), the password variables the topology
 * names and the fleet secret (secrets.fleetSecretEnv, default GATEWAY_SECRET) as Worker secrets,
 * GATEWAY_REGION (optional: overrides the region taken from request.cf).
 *
 * A Worker that is not fully configured serves nothing: every route but /health answers 500 with
 * the problem (never a value), instead of falling back to a sample topology or a weaker secret.
 */
import { Codes } from '../../errors/index.js';
import bundledSchema from '../../../schema/demo.graphql';
import { ConfigError, jsonPath, parseTopologyText, resolveSecrets, type Topology } from '../../config/load.js';
import { resolveFleetSecret } from '../../config/fleet-secret.js';
import { GATEWAY_VERSION } from '../../config/version.js';
import { createGateway, type Gateway } from '../../http/app.js';
import { keyVerifier } from '../../http/auth.js';
import { parseTrustedProxies } from '../../http/proxies.js';
import { createLogger } from '../../telemetry/log.js';
import { nearestRegion } from '../../topology/index.js';
import { QueryApiTransport } from '../../transport/query-api.js';
import { BoltTransport } from '../../transport/bolt.js';
import { RedisCache } from '../../cache/redis.js';
import type { Transport } from '../../transport/types.js';
import { currentCache, currentTransport, waitUntilCurrent, withRequestIO, type RequestIO } from './request-io.js';

export interface WorkerEnv {
  GATEWAY_CONFIG?: string;
  GATEWAY_REGION?: string;
  /** "query-api" (default): Neo4j's HTTP Query API over fetch; "bolt": Bolt over WebSocket (neo4j-driver) */
  GATEWAY_TRANSPORT?: string;
  /** GraphQL SDL (default: the bundled schema/demo.graphql when the topology lists GraphQL schema files) */
  GATEWAY_GRAPHQL_SCHEMA?: string;
  /** Redis shared with the rest of the fleet, behind isolate memory (connected per request, only on a miss) */
  GATEWAY_REDIS_URL?: string;
  [secret: string]: unknown;
}

interface ExecutionContextLike {
  waitUntil(work: Promise<unknown>): void;
}

/** Workers' crypto.subtle derives PBKDF2 with at most this many iterations */
const WORKER_MAX_PBKDF2_ITERATIONS = 100_000;

// per isolate: the configuration read last, and the gateway built from it
let loaded: { source: string; topology: Topology; passwords: Map<string, string> } | undefined;
let built: { config: Configured; transportKind: string; gateway: Gateway } | undefined;

const binding = (env: WorkerEnv) => (name: string) => (typeof env[name] === 'string' ? (env[name] as string) : undefined);

interface Configured {
  /** the GATEWAY_CONFIG it was read from */
  source: string;
  topology: Topology;
  passwords: Map<string, string>;
  /** the fleet secret, when this Worker needs it (signed transaction ids, Redis) */
  secret: string | undefined;
  redisUrl: string | undefined;
}

/** every problem `fn` reports as a ConfigError goes to `problems` (one answer lists them all) */
function collect<T>(problems: string[], fn: () => T): T | undefined {
  try {
    return fn();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
    return undefined;
  }
}

/**
 * The configuration of each bindings object this isolate has seen. An isolate's bindings do not
 * change while it lives (a new deployment or secret starts new isolates), so the checks below run
 * once per bindings object, not on every request (they showed in the Worker's profile).
 */
const configured = new WeakMap<WorkerEnv, Configured>();

/** Reads the bindings; throws ConfigError (naming variables, never values) when the Worker may not serve. */
function configure(env: WorkerEnv): Configured {
  const known = configured.get(env);
  if (known && known.source === env.GATEWAY_CONFIG) return known;
  const fresh = readConfiguration(env);
  configured.set(env, fresh);
  return fresh;
}

function readConfiguration(env: WorkerEnv): Configured {
  const source = env.GATEWAY_CONFIG;
  if (source === undefined || source === '') {
    throw new ConfigError(['$: GATEWAY_CONFIG is not set; bind the topology JSON to it (wrangler secret put GATEWAY_CONFIG)']);
  }
  const problems: string[] = [];
  let parsed = loaded?.source === source ? loaded : undefined;
  if (!parsed) {
    const topology = parseTopologyText(source, 'GATEWAY_CONFIG');
    problems.push(...parseTrustedProxies(topology.http.trustedProxies).problems);
    topology.apiKeys.forEach((k, i) => {
      const v = keyVerifier(k);
      // Cloudflare's runtime refuses more (workerd#1346); local wrangler dev does not enforce it
      if (v.form === 'pbkdf2-sha256' && v.iterations > WORKER_MAX_PBKDF2_ITERATIONS) {
        problems.push(`${jsonPath(['apiKeys', i, 'hash'])}: Workers derive PBKDF2 with at most ${WORKER_MAX_PBKDF2_ITERATIONS} iterations`);
      }
    });
    const passwords = collect(problems, () => resolveSecrets(topology, binding(env)));
    if (passwords && problems.length === 0) loaded = { source, topology, passwords };
    parsed = { source, topology, passwords: passwords ?? new Map() };
  }
  const { topology, passwords } = parsed;
  const redisUrl = env.GATEWAY_REDIS_URL ?? topology.cache.redisUrl;
  const requiredBy: string[] = [];
  if (env.GATEWAY_TRANSPORT !== 'bolt') requiredBy.push('explicit transactions are held by Neo4j (the secret signs their ids)');
  if (redisUrl) requiredBy.push('Redis is configured (the secret authenticates the routing tables shared there)');
  const secret = collect(problems, () => resolveFleetSecret(topology, binding(env), requiredBy));
  if (problems.length > 0) throw new ConfigError(problems);
  return { source, topology, passwords, secret, redisUrl };
}

const json = (body: unknown, status: number) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

function regionOf(topology: Topology, request: Request, env: WorkerEnv): string | undefined {
  if (env.GATEWAY_REGION) return env.GATEWAY_REGION;
  const cf = (request as Request & { cf?: { latitude?: string | number; longitude?: string | number } }).cf;
  const lat = Number(cf?.latitude);
  const lon = Number(cf?.longitude);
  return Number.isFinite(lat) && Number.isFinite(lon) && cf?.latitude !== undefined ? nearestRegion(topology, { lat, lon }) : undefined;
}

/** the gateway of this isolate for `config` (built on first use, and again when the configuration changes) */
function gatewayFor(config: Configured, transportKind: string, env: WorkerEnv): Gateway {
  if (
    built &&
    built.config.topology === config.topology &&
    built.config.secret === config.secret &&
    built.config.redisUrl === config.redisUrl &&
    built.transportKind === transportKind
  ) {
    return built.gateway;
  }
  const { topology, secret, redisUrl } = config;
  const sdl = env.GATEWAY_GRAPHQL_SCHEMA ?? (topology.graphql.schema.length > 0 ? bundledSchema : undefined);
  const gateway = createGateway({
    topology,
    ...(sdl !== undefined ? { graphqlSchema: sdl } : {}),
    transport: currentTransport(transportKind === 'query-api'),
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
  built = { config, transportKind, gateway };
  return gateway;
}

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
    const { topology, passwords, secret, redisUrl } = config;
    const transportKind = env.GATEWAY_TRANSPORT === 'bolt' ? 'bolt' : 'query-api';
    const gateway = gatewayFor(config, transportKind, env);
    const credentials = (cluster: string) => ({ user: topology.clusters[cluster]!.auth.user, password: passwords.get(cluster)! });
    // I/O objects live for this request only: the transport (and its connections) and the Redis client
    let transport: Transport;
    if (transportKind === 'bolt') {
      const bolt = new BoltTransport({
        credentials,
        maxPoolSize: topology.limits.memberPoolSize,
        maxResultBytes: topology.limits.maxResultBytes,
        maxMessageBytes: Math.max(topology.limits.maxResultBytes, ...topology.apiKeys.map((k) => k.limits?.maxResultBytes ?? 0)),
      });
      // no explicit transactions: a Bolt transaction would have to outlive this request
      transport = { run: (m, r) => bolt.run(m, r), fetchRoutingTable: (c, r, d, x) => bolt.fetchRoutingTable(c, r, d, x), close: () => bolt.close() };
    } else {
      transport = new QueryApiTransport({
        credentials,
        httpOf: (cluster, address) => topology.clusters[cluster]?.members[address]?.http,
        maxResultBytes: topology.limits.maxResultBytes,
      });
    }
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
