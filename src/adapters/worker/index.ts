/**
 * Cloudflare Worker adapter (DESIGN §6): the same createGateway() as Node, with the Query API
 * transport over fetch. Only plain data lives across requests (the parsed topology, routing tables,
 * member health, Cypher parse trees); every I/O object is made per request, since workerd refuses
 * I/O objects shared between requests.
 *
 * Bindings: GATEWAY_CONFIG (the topology JSON; default: the bundled schema/topology.sample.json),
 * the password variables the topology names (Worker secrets), GATEWAY_REGION (optional: overrides
 * the region taken from request.cf).
 */
import bundledTopology from '../../../schema/topology.sample.json' with { type: 'json' };
import bundledSchema from '../../../schema/demo.graphql';
import { ConfigError, parseTopology, parseTopologyText, resolveSecrets, type Topology } from '../../config/load.js';
import { Cypher, type CypherModule } from '../../federation/cypher.js';
import { createGateway } from '../../http/app.js';
import { newRoutingState } from '../../routing/service.js';
import type { CachedPlan } from '../../federation/execute.js';
import { Metrics } from '../../http/metrics.js';
import { nearestRegion } from '../../topology/index.js';
import { QueryApiTransport } from '../../transport/query-api.js';
import { BoltTransport } from '../../transport/bolt.js';
import { RedisCache } from '../../cache/redis.js';
import type { Transport } from '../../transport/types.js';

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

// per isolate: plain data only
let loaded: { source: string | undefined; topology: Topology; passwords: Map<string, string>; txSecret: string } | undefined;
let routingState = newRoutingState();
// plain data too: the metrics registry and federation plans live as long as the isolate
const metrics = new Metrics();
let planCache = new Map<string, CachedPlan>();
const cypher = new Cypher(async () => {
  const m = (await import('@neo4j-cypher/language-support')) as unknown as CypherModule & { default?: CypherModule };
  return typeof m.parse === 'function' ? m : (m.default as CypherModule);
});

function configure(env: WorkerEnv): { topology: Topology; passwords: Map<string, string>; txSecret: string } {
  if (loaded && loaded.source === env.GATEWAY_CONFIG) return loaded;
  const topology = env.GATEWAY_CONFIG ? parseTopologyText(env.GATEWAY_CONFIG, 'GATEWAY_CONFIG') : parseTopology(bundledTopology);
  const passwords = resolveSecrets(topology, (name) => (typeof env[name] === 'string' ? (env[name] as string) : undefined));
  // transaction ids are signed with a secret every isolate shares: GATEWAY_TX_SECRET, else one
  // derived from the cluster passwords (secrets the gateway already has and never reveals)
  const txSecret = typeof env.GATEWAY_TX_SECRET === 'string' && env.GATEWAY_TX_SECRET !== '' ? env.GATEWAY_TX_SECRET : `derived:${[...passwords.entries()].sort().map(([k, v]) => `${k}=${v}`).join('\u0000')}`;
  if (loaded) {
    // a new topology: tables and plans of the old one do not apply
    routingState = newRoutingState();
    planCache = new Map();
  }
  loaded = { source: env.GATEWAY_CONFIG, topology, passwords, txSecret };
  return loaded;
}

function regionOf(topology: Topology, request: Request, env: WorkerEnv): string | undefined {
  if (env.GATEWAY_REGION) return env.GATEWAY_REGION;
  const cf = (request as Request & { cf?: { latitude?: string | number; longitude?: string | number } }).cf;
  const lat = Number(cf?.latitude);
  const lon = Number(cf?.longitude);
  return Number.isFinite(lat) && Number.isFinite(lon) && cf?.latitude !== undefined ? nearestRegion(topology, { lat, lon }) : undefined;
}

export default {
  async fetch(request: Request, env: WorkerEnv, ctx: ExecutionContextLike): Promise<Response> {
    let config: { topology: Topology; passwords: Map<string, string>; txSecret: string };
    try {
      config = configure(env);
    } catch (err) {
      const problems = err instanceof ConfigError ? err.problems : ['the configuration could not be read'];
      return new Response(JSON.stringify({ errors: [{ code: 'Neo.DatabaseError.General.UnknownError', message: `Gateway configuration is invalid: ${problems.join('; ')}` }] }), {
        status: 500,
        headers: { 'content-type': 'application/json' },
      });
    }
    const { topology, passwords, txSecret } = config;
    const credentials = (cluster: string) => ({ user: topology.clusters[cluster]!.auth.user, password: passwords.get(cluster)! });
    // I/O objects live for this request only: the transport (and its connections) and the Redis client
    let transport: Transport;
    if (env.GATEWAY_TRANSPORT === 'bolt') {
      const bolt = new BoltTransport({ credentials, maxPoolSize: 8 });
      // no explicit transactions: a Bolt transaction would have to outlive this request
      transport = { run: (m, r) => bolt.run(m, r), fetchRoutingTable: (c, r, d, x) => bolt.fetchRoutingTable(c, r, d, x), close: () => bolt.close() };
    } else {
      transport = new QueryApiTransport({ credentials, httpOf: (cluster, address) => topology.clusters[cluster]?.members[address]?.http });
    }
    const redisUrl = env.GATEWAY_REDIS_URL ?? topology.cache.redisUrl;
    const sharedCache = redisUrl ? new RedisCache({ url: redisUrl, keyPrefix: topology.cache.keyPrefix, lazy: true, subscribe: false }) : undefined;
    const region = regionOf(topology, request, env);
    const sdl = env.GATEWAY_GRAPHQL_SCHEMA ?? (topology.graphql.schema.length > 0 ? bundledSchema : undefined);
    const gateway = createGateway({
      topology,
      // the schema is rebuilt per request (resolvers hold this request's I/O); statement parses are cached per isolate
      ...(sdl !== undefined ? { graphqlSchema: sdl } : {}),
      transport,
      ...(sharedCache ? { sharedCache } : {}),
      routingState,
      cypher,
      metrics,
      planCache,
      instanceId: 'worker',
      runtime: 'worker',
      // the app is built per request here: a router without a compile step
      router: 'linear',
      txSecret,
      waitUntil: (work) => ctx.waitUntil(work),
      ...(region ? { runtimeRegion: () => region } : {}),
    });
    const response = await gateway.app.fetch(request);
    // close what this request opened once the response has gone out
    ctx.waitUntil(Promise.all([transport.close(), sharedCache?.close()]).catch(() => undefined));
    return response;
  },
};
