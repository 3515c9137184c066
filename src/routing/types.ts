/**
 * The routing layer's data (DESIGN §4): routing tables as cached, the route chosen for one shard
 * of one request, and the plain state a runtime keeps across requests (Workers: per isolate).
 */
import type { AccessMode, MemberRef, RoutingTableData } from '../transport/types.js';

/** where a route's routing table came from */
export type TableSource = 'memory' | 'redis' | 'discovery';

export interface RoutingTable extends RoutingTableData {
  cluster: string;
  fetchedAt: number;
  expiresAt: number;
  /** where this process got it from */
  origin: 'redis' | 'discovery';
}

export interface Route {
  shard: string;
  member: MemberRef;
  role: AccessMode;
  region: string;
  cache: TableSource;
}

export interface RouteRequest {
  shard: string;
  mode: AccessMode;
  /** the request's region (pinned, or the runtime's) */
  region: string;
  /** true when the region came from the x-neo4j-region header */
  pinned: boolean;
  /** members to avoid on this attempt (already failed) */
  exclude?: ReadonlySet<string>;
}

/** an ejected member: consecutive failures, and the end of its current ejection period */
export interface MemberHealth {
  failures: number;
  ejectedUntil: number;
}

/** plain data a runtime may keep across requests (Workers: per isolate) */
export interface RoutingState {
  /** by tableKey() */
  tables: Map<string, RoutingTable>;
  /** by memberKey(); members without an entry are healthy */
  health: Map<string, MemberHealth>;
}

export function newRoutingState(): RoutingState {
  return { tables: new Map(), health: new Map() };
}

/** the key of a (cluster, database) routing table, in memory and in the shared cache */
export function tableKey(cluster: string, database: string): string {
  return `rt:${cluster}:${database}`;
}

export function memberKey(cluster: string, address: string): string {
  return `${cluster}/${address}`;
}
