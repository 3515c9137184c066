/**
 * The Worker's bindings, read and checked: the topology (GATEWAY_CONFIG), the passwords it names,
 * the fleet secret, the transport and Redis. Shared by the Worker's fetch handler and the Bolt
 * pool's Durable Object (bolt-pool.ts), which see the same bindings.
 */
import { ConfigError, jsonPath, parseTopologyText, resolveSecrets, type Topology } from '../../config/load.js';
import { resolveFleetSecret } from '../../config/fleet-secret.js';
import { keyVerifier } from '../../http/auth.js';
import { parseTrustedProxies } from '../../http/proxies.js';

/** The Durable Object namespace binding of the Bolt pool (wrangler.toml [[durable_objects.bindings]]). */
export interface DurableObjectNamespaceLike {
  idFromName(name: string): unknown;
  get(id: unknown): unknown;
}

export interface WorkerEnv {
  GATEWAY_CONFIG?: string;
  GATEWAY_REGION?: string;
  /**
   * "query-api" (default): Neo4j's HTTP Query API over fetch, per request; "bolt": Bolt over
   * WebSocket (neo4j-driver), connected per request; "bolt-pooled": Bolt connections kept open
   * between requests by the BOLT_POOL Durable Object (bolt-pool.ts), explicit transactions over the
   * Query API
   */
  GATEWAY_TRANSPORT?: string;
  /** "bolt-pooled": Durable Objects (each with its own connections) per cluster member; default 4 */
  GATEWAY_BOLT_POOL_OBJECTS?: string;
  /** GraphQL SDL (default: the bundled schema/demo.graphql when the topology lists GraphQL schema files) */
  GATEWAY_GRAPHQL_SCHEMA?: string;
  /** Redis shared with the rest of the fleet, behind isolate memory (connected per request, only on a miss) */
  GATEWAY_REDIS_URL?: string;
  /** the Bolt pool's Durable Object namespace (wrangler.toml); used with GATEWAY_TRANSPORT=bolt-pooled */
  BOLT_POOL?: DurableObjectNamespaceLike;
  [secret: string]: unknown;
}

export const TRANSPORT_KINDS = ['query-api', 'bolt', 'bolt-pooled'] as const;
export type TransportKind = (typeof TRANSPORT_KINDS)[number];

/** GATEWAY_BOLT_POOL_OBJECTS: default and bounds */
export const DEFAULT_BOLT_POOL_OBJECTS = 4;
export const MAX_BOLT_POOL_OBJECTS = 64;

/** Workers' crypto.subtle derives PBKDF2 with at most this many iterations */
const WORKER_MAX_PBKDF2_ITERATIONS = 100_000;

export interface Configured {
  /** the GATEWAY_CONFIG it was read from */
  source: string;
  topology: Topology;
  passwords: Map<string, string>;
  /** the fleet secret, when this Worker needs it (signed transaction ids, Redis) */
  secret: string | undefined;
  redisUrl: string | undefined;
  transport: TransportKind;
  /** Durable Objects per cluster member (bolt-pooled) */
  poolObjects: number;
}

// per isolate: the topology read last (parsing it is the expensive part)
let loaded: { source: string; topology: Topology; passwords: Map<string, string> } | undefined;

export const binding = (env: WorkerEnv) => (name: string) => (typeof env[name] === 'string' ? (env[name] as string) : undefined);

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
export function configure(env: WorkerEnv): Configured {
  const known = configured.get(env);
  if (known && known.source === env.GATEWAY_CONFIG) return known;
  const fresh = readConfiguration(env);
  configured.set(env, fresh);
  return fresh;
}

function transportOf(env: WorkerEnv, problems: string[]): TransportKind {
  const raw = env.GATEWAY_TRANSPORT;
  if (raw === undefined || raw === '') return 'query-api';
  const kind = TRANSPORT_KINDS.find((k) => k === raw);
  if (!kind) problems.push(`$: GATEWAY_TRANSPORT must be one of ${TRANSPORT_KINDS.join(', ')}`);
  if (kind === 'bolt-pooled' && (typeof env.BOLT_POOL?.idFromName !== 'function' || typeof env.BOLT_POOL.get !== 'function')) {
    problems.push('$: GATEWAY_TRANSPORT=bolt-pooled needs the BOLT_POOL Durable Object binding (wrangler.toml)');
  }
  return kind ?? 'query-api';
}

function poolObjectsOf(env: WorkerEnv, problems: string[]): number {
  const raw = env.GATEWAY_BOLT_POOL_OBJECTS;
  if (raw === undefined || raw === '') return DEFAULT_BOLT_POOL_OBJECTS;
  const n = /^[0-9]{1,3}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 1 && n <= MAX_BOLT_POOL_OBJECTS)) {
    problems.push(`$: GATEWAY_BOLT_POOL_OBJECTS must be a whole number from 1 to ${MAX_BOLT_POOL_OBJECTS}`);
    return DEFAULT_BOLT_POOL_OBJECTS;
  }
  return n;
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
  const transport = transportOf(env, problems);
  const poolObjects = poolObjectsOf(env, problems);
  const redisUrl = env.GATEWAY_REDIS_URL ?? topology.cache.redisUrl;
  const requiredBy: string[] = [];
  if (transport !== 'bolt') requiredBy.push('explicit transactions are held by Neo4j (the secret signs their ids)');
  if (redisUrl) requiredBy.push('Redis is configured (the secret authenticates the routing tables shared there)');
  const secret = collect(problems, () => resolveFleetSecret(topology, binding(env), requiredBy));
  if (problems.length > 0) throw new ConfigError(problems);
  return { source, topology, passwords, secret, redisUrl, transport, poolObjects };
}

/** the user and password of a cluster, as the topology and its password bindings give them */
export function credentialsOf(config: Configured): (cluster: string) => { user: string; password: string } {
  return (cluster) => ({ user: config.topology.clusters[cluster]!.auth.user, password: config.passwords.get(cluster)! });
}
