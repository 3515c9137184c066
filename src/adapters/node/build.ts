/**
 * Node adapter: builds the concrete parts (Bolt transport, Redis cache) from a topology and the
 * process environment, and hands them to the runtime-neutral core. Refuses to build (ConfigError)
 * without the fleet secret when Redis is configured, and with a bad http.trustedProxies entry.
 */
import * as nodeCrypto from 'node:crypto';
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, parseTopologyText, resolveSecrets, type Topology } from '../../config/load.js';
import { RedisCache } from '../../cache/redis.js';
import type { Cache } from '../../cache/types.js';
import { createGateway, type Gateway } from '../../http/app.js';
import { readWebBody } from '../../http/body.js';
import { parseTrustedProxies } from '../../http/proxies.js';
import { resolveFleetSecret } from '../../config/fleet-secret.js';
import { BoltTransport } from '../../transport/bolt.js';
import { createLogger, type LogFormat, type Logger, type LogLevel } from '../../telemetry/log.js';
import { registerProcessMetrics } from './process-metrics.js';
import { readIncomingBody } from './request-body.js';
import { writeStdoutLine } from './stdout-lines.js';
import { otlpEndpoint, startTracing, type Tracing } from './tracing.js';

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
  /** where log lines go (default: stdout, at the level and in the format of topology.observability, LOG_LEVEL / LOG_FORMAT overriding) */
  logger?: Logger;
}

export interface NodeGateway extends Gateway {
  transport: BoltTransport;
  cache: Cache | undefined;
  /** what @hono/node-server calls: the app, told each request's TCP peer (for http.trustedProxies) */
  fetch: (request: Request, env?: { incoming?: IncomingMessage | Http2ServerRequest }) => Response | Promise<Response>;
}

/** Loads the topology from `--config`/GATEWAY_CONFIG: a file path, or the JSON itself. */
export function loadTopology(source: string): Topology {
  const text = source.trimStart().startsWith('{') ? source : readFileSync(source, 'utf8');
  return parseTopologyText(text, source.trimStart().startsWith('{') ? 'GATEWAY_CONFIG' : source);
}

/** crypto.hash where this Node has it (20.12+) */
const oneShotHash = (nodeCrypto as { hash?: (algorithm: string, data: string, encoding: 'buffer') => Buffer }).hash;
const oneShotSha256 = oneShotHash ? (text: string) => oneShotHash('sha256', text, 'buffer') : undefined;

const LEVELS = new Set(['debug', 'info', 'warn', 'error']);

/** JSON lines on stdout, at the topology's level and format; LOG_LEVEL and LOG_FORMAT override them */
export function nodeLogger(topology: Topology, env: Record<string, string | undefined>): Logger {
  const level = (env.LOG_LEVEL && LEVELS.has(env.LOG_LEVEL) ? env.LOG_LEVEL : topology.observability.logLevel) as LogLevel;
  const format = (env.LOG_FORMAT === 'json' || env.LOG_FORMAT === 'pretty' ? env.LOG_FORMAT : topology.observability.logFormat) as LogFormat;
  return createLogger({ level, format, write: writeStdoutLine });
}

export async function buildNodeGateway(opts: NodeGatewayOptions): Promise<NodeGateway> {
  const { topology, env } = opts;
  const passwords = resolveSecrets(topology, (n) => env[n]);
  const redisUrl = opts.redisUrl ?? (topology.cache.redisUrlEnv ? env[topology.cache.redisUrlEnv] : undefined) ?? topology.cache.redisUrl;
  // checked before any connection opens: a refused configuration leaves nothing running
  const proxies = parseTrustedProxies(topology.http.trustedProxies);
  if (proxies.problems.length > 0) throw new ConfigError(proxies.problems);
  // transactions are held here (Bolt), so ids are not signed on Node; Redis tables are
  const secret = resolveFleetSecret(
    topology,
    (n) => env[n],
    redisUrl ? ['Redis is configured (the secret authenticates the routing tables and messages shared there)'] : [],
  );
  const transport = new BoltTransport({
    credentials: (cluster) => ({ user: topology.clusters[cluster]!.auth.user, password: passwords.get(cluster)! }),
    scheme: (cluster) => /^(neo4j|bolt)(\+s|\+ssc)/.exec(topology.clusters[cluster]!.routers[0]!)?.[2] ?? '',
    maxPoolSize: topology.limits.memberPoolSize,
    maxResultBytes: topology.limits.maxResultBytes,
    maxMessageBytes: Math.max(topology.limits.maxResultBytes, ...topology.apiKeys.map((k) => k.limits?.maxResultBytes ?? 0)),
  });
  const cache = redisUrl && secret ? new RedisCache({ url: redisUrl, keyPrefix: topology.cache.keyPrefix, secret }) : undefined;
  // each request's IncomingMessage (its TCP peer, its body), recorded by `fetch` below
  const incomings = new WeakMap<Request, IncomingMessage | Http2ServerRequest>();
  const region = env.GATEWAY_REGION;
  const sdl =
    opts.graphqlSchema ??
    (topology.graphql.schema.length > 0
      ? topology.graphql.schema.map((f) => readFileSync(path.resolve(opts.baseDir ?? '.', f), 'utf8')).join('\n')
      : undefined);
  const logger = opts.logger ?? nodeLogger(topology, env);
  const spansTo = otlpEndpoint(topology.observability.otlpEndpoint, env);
  const tracing: Tracing | undefined = spansTo ? await startTracing(spansTo, topology.observability.serviceName) : undefined;
  const gateway = createGateway({
    ...(sdl !== undefined ? { graphqlSchema: sdl } : {}),
    topology,
    transport,
    ...(cache ? { sharedCache: cache } : {}),
    ...(region ? { runtimeRegion: () => region } : {}),
    peerAddress: (request) => incomings.get(request)?.socket?.remoteAddress,
    readBody: (request, maxBytes) => {
      const incoming = incomings.get(request);
      return incoming ? readIncomingBody(incoming, maxBytes) : readWebBody(request, maxBytes);
    },
    ...(secret ? { txSecret: secret } : {}),
    instanceId: opts.instanceId ?? env.GATEWAY_INSTANCE_ID ?? randomUUID(),
    runtime: 'node',
    // node:crypto hashes synchronously in ~1 µs; crypto.subtle's async round trip costs far more.
    // crypto.hash (Node 20.12+) is the one-shot form, without a Hash object per request
    sha256: oneShotSha256 ?? ((text) => createHash('sha256').update(text, 'utf8').digest()),
    logger,
  });
  const stopProcessMetrics = registerProcessMetrics(gateway.metrics.registry);
  return {
    ...gateway,
    transport,
    cache,
    fetch: (request, bindings) => {
      if (bindings?.incoming) incomings.set(request, bindings.incoming);
      return gateway.app.fetch(request, bindings);
    },
    async close() {
      stopProcessMetrics();
      await gateway.close();
      await transport.close();
      await cache?.close();
      await tracing?.shutdown();
    },
  };
}
