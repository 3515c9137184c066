/**
 * The router (DESIGN §4): chooses the member for one shard of one request. Composes the
 * routing-table cache, discovery, member health and in-flight counts with the pure member choice
 * of select.ts; runs the probe of an ejected member whose period has ended.
 */
import type { Topology } from '../config/schema.js';
import type { Cache } from '../cache/types.js';
import { Codes, GatewayError } from '../errors/index.js';
import { memberRegion, regionDistance } from '../topology/index.js';
import type { MemberRef, Transport } from '../transport/types.js';
import { Discovery } from './discovery.js';
import { InFlight } from './in-flight.js';
import { MemberHealthBook } from './member-health.js';
import { pickReader, regionOrder, type Candidate } from './select.js';
import { TableCache } from './table-cache.js';
import { newRoutingState, type Route, type RouteRequest, type RoutingState, type RoutingTable, type TableSource } from './types.js';

/** how long a probe of an ejected member may take */
const PROBE_DEADLINE_MS = 5000;

/** what the router reports as it works (logs and metrics; all optional) */
export interface RoutingEvents {
  tableRefreshed?(e: {
    cluster: string;
    database: string;
    source: 'discovered' | 'shared';
    writers: string[];
    readers: string[];
    ttlSeconds: number;
    previousWriters: string[] | undefined;
  }): void;
  refreshFailed?(e: { cluster: string; database: string; error: { code: string; message: string } }): void;
  memberEjected?(e: { cluster: string; address: string; failures: number; ejectedForMs: number }): void;
  memberRestored?(e: { cluster: string; address: string }): void;
}

export interface RouterOptions {
  now?: () => number;
  /** waits between polls for another instance's table (tests: a fake) */
  sleep?: (ms: number) => Promise<void>;
  /** keep tables and member health in this state (shared by several routers) */
  state?: RoutingState;
  /** hands background work (stale-while-revalidate refreshes) to the runtime (Workers: waitUntil) */
  waitUntil?: (work: Promise<unknown>) => void;
  /** names this instance in invalidation messages */
  instanceId?: string;
  /** how long a table stays in the shared cache past its TTL, to be served while one refresh runs */
  staleGraceMs?: number;
  /** how long a refresh lock is held at most */
  lockMs?: number;
  /** first ejection period after a failure; doubles per failure */
  ejectMs?: number;
  maxEjectMs?: number;
  events?: RoutingEvents;
}

export class Router {
  private readonly discovery: Discovery;
  private readonly tables: TableCache;
  private readonly health: MemberHealthBook;
  private readonly inFlight = new InFlight();
  private readonly now: () => number;
  private readonly events: RoutingEvents;
  private readonly waitUntil: ((work: Promise<unknown>) => void) | undefined;
  private rotation = 0;
  /** region -> all regions by distance from it (the topology is fixed for the router's life) */
  private readonly orders = new Map<string, string[]>();

  constructor(
    private readonly topology: Topology,
    private readonly transport: Pick<Transport, 'run' | 'fetchRoutingTable'>,
    shared: Cache | undefined,
    options: RouterOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    const events = (this.events = options.events ?? {});
    this.waitUntil = options.waitUntil;
    const state = options.state ?? newRoutingState();
    this.discovery = new Discovery(topology, transport);
    this.tables = new TableCache(this.discovery, shared, {
      maxTtlSeconds: topology.routing.maxRoutingTableTtlSeconds,
      tables: state.tables,
      now: this.now,
      ...(options.sleep ? { sleep: options.sleep } : {}),
      ...(options.waitUntil ? { waitUntil: options.waitUntil } : {}),
      ...(options.instanceId !== undefined ? { instanceId: options.instanceId } : {}),
      ...(options.staleGraceMs !== undefined ? { staleGraceMs: options.staleGraceMs } : {}),
      ...(options.lockMs !== undefined ? { lockMs: options.lockMs } : {}),
      events: {
        refreshed: ({ cluster, database, source, table, previous }) =>
          events.tableRefreshed?.({
            cluster,
            database,
            source,
            writers: table.writers,
            readers: table.readers,
            ttlSeconds: Math.round((table.expiresAt - table.fetchedAt) / 1000),
            previousWriters: previous?.writers,
          }),
        failed: ({ cluster, database, error }) => {
          const e = error as { code?: unknown; message?: unknown };
          events.refreshFailed?.({
            cluster,
            database,
            error: { code: typeof e?.code === 'string' ? e.code : Codes.Internal, message: typeof e?.message === 'string' ? e.message : String(error) },
          });
        },
      },
    });
    this.health = new MemberHealthBook(state.health, {
      now: this.now,
      ...(options.ejectMs !== undefined ? { ejectMs: options.ejectMs } : {}),
      ...(options.maxEjectMs !== undefined ? { maxEjectMs: options.maxEjectMs } : {}),
    });
  }

  /** routing-table requests this instance sent (one per router asked) */
  get discoveries(): number {
    return this.discovery.requests;
  }

  /** invalidations received from other instances */
  get invalidationsReceived(): number {
    return this.tables.invalidationsReceived;
  }

  /** Listens for fleet-wide invalidations (call once after construction). */
  start(): Promise<void> {
    return this.tables.start();
  }

  /** The routing table for a shard, and where it came from. */
  tableFor(cluster: string, database: string): Promise<{ table: RoutingTable; source: TableSource }> {
    return this.tables.tableFor(cluster, database);
  }

  refresh(cluster: string, database: string): Promise<RoutingTable> {
    return this.tables.refresh(cluster, database);
  }

  /** Drops a table here, in the shared cache and in every other instance's memory. */
  invalidate(cluster: string, database: string): Promise<void> {
    return this.tables.invalidate(cluster, database);
  }

  /** A member failed: eject it for a back-off period (doubling per consecutive failure). */
  markFailed(cluster: string, address: string): void {
    const ejectedForMs = this.health.markFailed(cluster, address);
    this.events.memberEjected?.({ cluster, address, failures: this.health.failures(cluster, address), ejectedForMs });
  }

  markHealthy(cluster: string, address: string): void {
    if (this.health.isHealthy(cluster, address)) return;
    this.health.markHealthy(cluster, address);
    this.events.memberRestored?.({ cluster, address });
  }

  /** Counts a request on the member until the returned (idempotent) release is called. */
  acquire(cluster: string, address: string): () => void {
    return this.inFlight.acquire(cluster, address);
  }

  /** Chooses the member for one shard of one request. */
  async route(req: RouteRequest): Promise<Route> {
    const shard = this.topology.shards[req.shard];
    if (!shard) throw new GatewayError(Codes.DatabaseNotFound, `Database does not exist. Database name: '${req.shard}'.`);
    if (this.topology.routing.drainedShards.includes(req.shard)) {
      const retryAfter = this.topology.routing.drainRetryAfterSeconds;
      throw new GatewayError(Codes.ShardDrained, `Shard '${req.shard}' is drained for maintenance (routing.drainedShards); retry after ${retryAfter} s.`, {
        headers: { 'retry-after': String(retryAfter) },
      });
    }
    const { table, source } = await this.tables.tableFor(shard.cluster, shard.database);
    const cluster = shard.cluster;
    const memberRef = (address: string): MemberRef => {
      const http = this.topology.clusters[cluster]?.members[address]?.http;
      return http === undefined ? { cluster, address } : { cluster, address, http };
    };
    const exclude = req.exclude ?? new Set<string>();
    if (req.mode === 'WRITE') {
      const writer = table.writers.find((w) => !exclude.has(w)) ?? table.writers[0];
      if (!writer) {
        throw new GatewayError(Codes.DatabaseUnavailable, `Shard '${req.shard}' has no writer right now (no leader in the routing table).`, {
          retryable: true,
        });
      }
      return { shard: req.shard, member: memberRef(writer), role: 'WRITE', region: memberRegion(this.topology, cluster, writer), cache: source };
    }
    const readers = table.readers.length > 0 ? table.readers : table.writers;
    const fresh = readers.filter((a) => !exclude.has(a));
    const addresses = fresh.length > 0 ? fresh : readers;
    // ejected candidates whose period has ended are probed before traffic returns to them
    for (const address of this.health.dueForProbe(cluster, addresses)) this.probe(cluster, address, table.database);
    const candidates: Candidate[] = addresses.map((address) => ({
      address,
      region: memberRegion(this.topology, cluster, address),
      inFlight: this.inFlight.count(cluster, address),
      healthy: this.health.isHealthy(cluster, address),
    }));
    let order = this.orders.get(req.region);
    if (!order) {
      order = regionOrder(req.region, Object.keys(this.topology.regions), (a, b) => regionDistance(this.topology, a, b));
      this.orders.set(req.region, order);
    }
    const strict = req.pinned && this.topology.routing.strictRegionPin ? req.region : undefined;
    const choice = pickReader(candidates, order, { ...(strict !== undefined ? { strictRegion: strict } : {}), tieBreak: this.rotation++ });
    if (!choice) {
      if (strict !== undefined) {
        throw new GatewayError(Codes.NoReaderInRegion, `Shard '${req.shard}' has no reader in pinned region '${strict}' and region pins are strict.`);
      }
      throw new GatewayError(Codes.DatabaseUnavailable, `Shard '${req.shard}' has no reader available.`, { retryable: true });
    }
    return { shard: req.shard, member: memberRef(choice.address), role: 'READ', region: choice.region, cache: source };
  }

  /** Probes an ejected member (RETURN 1) in the background, once at a time; the outcome restores or re-ejects it. */
  private probe(cluster: string, address: string, database: string): void {
    if (!this.health.beginProbe(cluster, address)) return;
    const probe = this.transport
      .run(
        { cluster, address },
        { database, statement: 'RETURN 1', parameters: {}, accessMode: 'READ', bookmarks: [], maxRows: 1, deadline: this.now() + PROBE_DEADLINE_MS },
      )
      .then(
        () => {
          this.health.endProbe(cluster, address, true);
          this.events.memberRestored?.({ cluster, address });
        },
        () => {
          this.health.endProbe(cluster, address, false);
          this.events.memberEjected?.({
            cluster,
            address,
            failures: this.health.failures(cluster, address),
            ejectedForMs: this.health.ejectedForMs(cluster, address),
          });
        },
      );
    // the runtime keeps the request alive until the probe is done (Workers: waitUntil)
    this.waitUntil?.(probe);
  }

  /** A snapshot for /topology and /ready. */
  snapshot(): { key: string; table: RoutingTable }[] {
    return this.tables.snapshot();
  }

  memberState(cluster: string, address: string): { healthy: boolean; inFlight: number; failures: number } {
    return {
      healthy: this.health.isHealthy(cluster, address),
      inFlight: this.inFlight.count(cluster, address),
      failures: this.health.failures(cluster, address),
    };
  }
}
