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
import { ConfigError, parseTopology, parseTopologyText, resolveSecrets, type Topology } from '../../config/load.js';
import { Cypher, type CypherModule } from '../../federation/cypher.js';
import { createGateway } from '../../http/app.js';
import { newRoutingState } from '../../routing/service.js';
import { nearestRegion } from '../../topology/index.js';
import { QueryApiTransport } from '../../transport/query-api.js';

export interface WorkerEnv {
  GATEWAY_CONFIG?: string;
  GATEWAY_REGION?: string;
  [secret: string]: unknown;
}

interface ExecutionContextLike {
  waitUntil(work: Promise<unknown>): void;
}

// per isolate: plain data only
let loaded: { source: string | undefined; topology: Topology; passwords: Map<string, string>; txSecret: string } | undefined;
const routingState = newRoutingState();
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
    const transport = new QueryApiTransport({
      credentials: (cluster) => ({ user: topology.clusters[cluster]!.auth.user, password: passwords.get(cluster)! }),
      httpOf: (cluster, address) => topology.clusters[cluster]?.members[address]?.http,
    });
    const region = regionOf(topology, request, env);
    const gateway = createGateway({
      topology,
      transport,
      routingState,
      cypher,
      instanceId: 'worker',
      runtime: 'worker',
      txSecret,
      waitUntil: (work) => ctx.waitUntil(work),
      ...(region ? { runtimeRegion: () => region } : {}),
    });
    return gateway.app.fetch(request);
  },
};
