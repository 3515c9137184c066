/**
 * Node adapter: builds the concrete parts (Bolt transport, Redis cache) from a topology and the
 * process environment, and hands them to the runtime-neutral core.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type { CypherModule } from '../../federation/cypher.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseTopologyText, resolveSecrets, type Topology } from '../../config/load.js';
import { RedisCache } from '../../cache/redis.js';
import type { Cache } from '../../cache/types.js';
import { createGateway, type Gateway } from '../../http/app.js';
import { BoltTransport } from '../../transport/bolt.js';

export interface NodeGatewayOptions {
  topology: Topology;
  env: Record<string, string | undefined>;
  /** overrides the topology's Redis URL (e.g. tests) */
  redisUrl?: string;
  /** GraphQL SDL (default: the files topology.graphql.schema names, relative to `baseDir`) */
  graphqlSchema?: string;
  /** where relative paths of the topology resolve from (the topology file's folder) */
  baseDir?: string;
  instanceId?: string;
  log?: (line: string) => void;
}

export interface NodeGateway extends Gateway {
  transport: BoltTransport;
  cache: Cache | undefined;
}

/** Loads the topology from `--config`/GATEWAY_CONFIG: a file path, or the JSON itself. */
export function loadTopology(source: string): Topology {
  const text = source.trimStart().startsWith('{') ? source : readFileSync(source, 'utf8');
  return parseTopologyText(text, source.trimStart().startsWith('{') ? 'GATEWAY_CONFIG' : source);
}

export function buildNodeGateway(opts: NodeGatewayOptions): NodeGateway {
  const { topology, env } = opts;
  const passwords = resolveSecrets(topology, (n) => env[n]);
  const transport = new BoltTransport({
    credentials: (cluster) => ({ user: topology.clusters[cluster]!.auth.user, password: passwords.get(cluster)! }),
    scheme: (cluster) => /^(neo4j|bolt)(\+s|\+ssc)/.exec(topology.clusters[cluster]!.routers[0]!)?.[2] ?? '',
  });
  const redisUrl = opts.redisUrl ?? (topology.cache.redisUrlEnv ? env[topology.cache.redisUrlEnv] : undefined) ?? topology.cache.redisUrl;
  const cache = redisUrl ? new RedisCache({ url: redisUrl, keyPrefix: topology.cache.keyPrefix }) : undefined;
  const region = env.GATEWAY_REGION;
  const sdl =
    opts.graphqlSchema ??
    (topology.graphql.schema.length > 0 ? topology.graphql.schema.map((f) => readFileSync(path.resolve(opts.baseDir ?? '.', f), 'utf8')).join('\n') : undefined);
  const gateway = createGateway({
    ...(sdl !== undefined ? { graphqlSchema: sdl } : {}),
    topology,
    transport,
    ...(cache ? { sharedCache: cache } : {}),
    ...(region ? { runtimeRegion: () => region } : {}),
    instanceId: opts.instanceId ?? env.GATEWAY_INSTANCE_ID ?? randomUUID(),
    runtime: 'node',
    // the grammar package's ESM build does not load under Node's resolver: require its CommonJS build
    cypherLoader: () => Promise.resolve(createRequire(import.meta.url)('@neo4j-cypher/language-support') as CypherModule),
    // node:crypto hashes synchronously in ~1 µs; crypto.subtle's async round trip costs far more
    sha256: (text) => createHash('sha256').update(text, 'utf8').digest(),
    onInternalError: (err) => opts.log?.(`internal error: ${(err as Error)?.stack ?? String(err)}`),
  });
  return {
    ...gateway,
    transport,
    cache,
    async close() {
      await gateway.close();
      await transport.close();
      await cache?.close();
    },
  };
}
