/**
 * What a runtime hands the gateway (createGateway): the topology and the I/O it built (transport,
 * shared cache), plus what only the runtime knows (its region, a request's TCP peer, background
 * work, logs). Nothing else: the gateway builds its own services once from these.
 */
import type { Cache } from '../cache/types.js';
import type { Topology } from '../config/schema.js';
import type { Logger } from '../telemetry/log.js';
import type { Transport } from '../transport/types.js';
import type { Sha256 } from './auth.js';
import type { BodyReader } from './body.js';

export interface GatewayDeps {
  topology: Topology;
  /**
   * runs statements on cluster members. On Workers it reaches the current request's transport
   * (the adapter keeps one per request); elsewhere it is one object for the gateway's life
   */
  transport: Transport;
  /** the shared routing-table cache (Redis); absent: this instance's memory only */
  sharedCache?: Cache;
  /** the region of a request when no header pins one (Node: GATEWAY_REGION; Workers: request.cf) */
  runtimeRegion?: (request: Request) => string | undefined;
  /**
   * the TCP peer's address of a request (Node: the socket's remote address); forwarded headers
   * are believed only from peers in http.trustedProxies. Absent (Workers): never believed
   */
  peerAddress?: (request: Request) => string | undefined;
  /** identifies this instance in `neo4j-cluster-affinity`, invalidation messages and logs */
  instanceId?: string;
  /** background work the runtime must finish (Workers: the current request's ctx.waitUntil) */
  waitUntil?: (work: Promise<unknown>) => void;
  /** signs ids of transactions Neo4j holds (HTTP transports); must be the same on every instance */
  txSecret?: string;
  /** names the runtime in /health and gateway_build_info ("node", "worker") */
  runtime?: string;
  now?: () => number;
  /** GraphQL SDL with @cypher fields; absent: /graphql answers 404 */
  graphqlSchema?: string;
  /** SHA-256 for API keys (default: crypto.subtle) */
  sha256?: Sha256;
  /** where the gateway's log lines go (default: none) */
  logger?: Logger;
  /** reads a request's body (default: the Request's Web stream; Node reads its IncomingMessage) */
  readBody?: BodyReader;
}
