/**
 * The request context: what the middleware learns about a request and hands to the routes with
 * `c.set` (hono's context variables). `request` is set for every request; the others by the
 * middleware a route mounts (authenticate, negotiate, region, queryBody).
 */
import type { Context } from 'hono';
import type { Route } from '../routing/types.js';
import type { ShardBookmarks } from '../routing/bookmarks.js';
import type { TraceContext } from '../telemetry/trace.js';
import type { Principal } from './auth.js';
import type { QueryRequest } from './codec.js';

/** one statement the request sent to a shard member */
export interface ShardTouch {
  route: Route;
  /** attempts it took (1: no retry) */
  attempts: number;
  /** ok, begin (a transaction opened), ... */
  outcome: string;
}

/** what is known of every request, from its first middleware to its log line */
export interface RequestState {
  /** x-request-id: the client's, or a new one */
  id: string;
  /** the W3C trace context the response and Neo4j see */
  trace: TraceContext;
  /** when the request arrived (ms, the gateway's clock); deadlines count from here */
  started: number;
  /** the database the request names (/db/{db}/...), once known */
  database?: string;
  /** the shards and members it reached */
  shards: ShardTouch[];
  /**
   * set when the answer is streamed: settles once its body has been written (or the client went
   * away), with the error the body ended with, if any; the request's log line, metrics and
   * admission slot wait for it
   */
  finished?: Promise<{ code: string; message: string } | undefined>;
  /** the statement and its parameters, kept for the log line only when observability.logParameters is on */
  statement?: string;
  parameters?: unknown;
}

export interface RegionChoice {
  region: string;
  /** true when the x-neo4j-region header chose it */
  pinned: boolean;
}

export interface ClientBookmarks {
  shards: ShardBookmarks;
  raw: string[];
}

export type GatewayEnv = {
  Variables: {
    request: RequestState;
    principal: Principal;
    region: RegionChoice;
    /** the response is typed JSON (application/vnd.neo4j.query) */
    typed: boolean;
    query: QueryRequest;
    bookmarks: ClientBookmarks;
  };
};

export type GatewayContext = Context<GatewayEnv>;

export const REGION_HEADER = 'x-neo4j-region';
export const SHARD_KEY_HEADER = 'x-neo4j-shard-key';
export const PARTIAL_HEADER = 'x-gateway-partial';
export const AFFINITY_HEADER = 'neo4j-cluster-affinity';
export const REQUEST_ID_HEADER = 'x-request-id';
export const TRACEPARENT_HEADER = 'traceparent';

/** records statements sent to shards for the response headers, the metrics and the log line */
export function touched(c: GatewayContext, routes: readonly Route[], attempts = 1, outcome = 'ok'): void {
  const shards = c.get('request').shards;
  for (const route of routes) shards.push({ route, attempts, outcome });
}

/** the request's transaction metadata for Neo4j (SHOW TRANSACTIONS, the query log): who sent it, under which request and trace */
export function transactionMetadata(c: GatewayContext, instanceId: string): Record<string, string> {
  const rq = c.get('request');
  const principal = c.get('principal') as Principal | undefined;
  return {
    requestId: rq.id,
    traceparent: `00-${rq.trace.traceId}-${rq.trace.spanId}-${rq.trace.sampled ? '01' : '00'}`,
    ...(principal ? { apiKey: principal.id } : {}),
    gateway: instanceId,
  };
}
