import type { Topology } from '../config/schema.js';
import { Codes, GatewayError } from '../errors/index.js';

/** What a `{db}` in a request names: one shard, or a composite over several. */
export type DatabaseTarget = { kind: 'shard'; name: string; shard: string } | { kind: 'composite'; name: string; shards: string[] };

export function resolveDatabase(topology: Topology, db: string): DatabaseTarget {
  if (Object.hasOwn(topology.shards, db)) return { kind: 'shard', name: db, shard: db };
  const composite = Object.hasOwn(topology.composites, db) ? topology.composites[db] : undefined;
  if (composite) return { kind: 'composite', name: db, shards: [...composite.shards] };
  throw new GatewayError(Codes.DatabaseNotFound, `Database does not exist. Database name: '${db}'.`);
}

export function assertRegion(topology: Topology, region: string): string {
  if (!Object.hasOwn(topology.regions, region)) {
    throw new GatewayError(Codes.UnknownRegion, `Unknown region '${region}'. Known regions: ${Object.keys(topology.regions).sort().join(', ')}.`);
  }
  return region;
}

const EARTH_RADIUS_KM = 6371.0088;

/** Great-circle distance in km between two points (haversine). */
export function greatCircleKm(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Distance in km between two configured regions (0 for the same region). */
export function regionDistance(topology: Topology, from: string, to: string): number {
  if (from === to) return 0;
  const a = topology.regions[from];
  const b = topology.regions[to];
  if (!a || !b) return Number.POSITIVE_INFINITY;
  return greatCircleKm(a, b);
}

/** The configured region nearest to a point (e.g. a Worker colo's coordinates). */
export function nearestRegion(topology: Topology, point: { lat: number; lon: number }): string {
  let best = topology.defaultRegion;
  let bestKm = Number.POSITIVE_INFINITY;
  for (const [name, r] of Object.entries(topology.regions)) {
    const km = greatCircleKm(point, r);
    if (km < bestKm || (km === bestKm && name < best)) {
      best = name;
      bestKm = km;
    }
  }
  return best;
}

/** The region a cluster member runs in: from `members`, else the cluster's region, else the default. */
export function memberRegion(topology: Topology, cluster: string, address: string): string {
  const c = topology.clusters[cluster];
  if (!c) return topology.defaultRegion;
  return c.members[address]?.region ?? c.region ?? topology.defaultRegion;
}
