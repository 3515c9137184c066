/** Responses: Query API bodies in the negotiated media type, with the routing headers of the shards a request reached; errors in Neo4j's shape. */
import { Codes, type GatewayError } from '../errors/index.js';
import type { Route } from '../routing/types.js';
import { TYPED_JSON } from './codec.js';
import type { GatewayContext } from './context.js';

export function errorResponse(err: GatewayError, typed: boolean): Response {
  // request-shape errors are always plain JSON, as Neo4j answers them
  const asTyped = typed && err.code !== Codes.RequestInvalid;
  const headers: Record<string, string> = { 'content-type': asTyped ? TYPED_JSON : 'application/json', ...err.headers };
  return new Response(JSON.stringify(err.toBody()), { status: err.status, headers });
}

/** x-gateway-route and x-gateway-cache for the shards a request touched (none: no headers) */
export function routeHeaders(routes: readonly Route[]): Record<string, string> {
  if (routes.length === 0) return {};
  return {
    'x-gateway-route': routes.map((r) => `${r.shard}=${r.member.address};${r.role};${r.region}`).join(', '),
    'x-gateway-cache': [...new Set(routes.map((r) => r.cache))].join(', '),
  };
}

/** a Query API answer (202 Accepted, as Neo4j's), typed or plain as negotiated, with the routing headers */
export function respond(c: GatewayContext, body: string, headers: Record<string, string> = {}): Response {
  const routes = c.get('request').shards.map((t) => t.route);
  return c.body(body, 202, { 'content-type': c.get('typed') ? TYPED_JSON : 'application/json', ...routeHeaders(routes), ...headers });
}
