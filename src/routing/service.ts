/**
 * Routing tables per (cluster, database) and member choice (DESIGN §4).
 *
 * Lookup order: this process's memory (the hot path: no I/O at all), then the shared cache
 * (Redis), then discovery against the cluster's routers. A table past its TTL is served while
 * one refresh per table runs (stale-while-revalidate).
 */
import type { Topology } from '../config/schema.js';
import type { Cache } from '../cache/types.js';
import { Codes, GatewayError } from '../errors/index.js';
import { memberRegion, regionDistance } from '../topology/index.js';
import type { AccessMode, MemberRef, RoutingTableData, Transport } from '../transport/types.js';
import { pickReader, regionOrder, type Candidate } from './select.js';

export type TableSource = 'memory' | 'redis' | 'discovery';

const INVALIDATION_CHANNEL = 'routing-invalidations';

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

export interface MemberHealth {
  failures: number;
  ejectedUntil: number;
}

/** plain data a runtime may keep across requests (Workers: per isolate) */
export interface RoutingState {
  tables: Map<string, RoutingTable>;
  health: Map<string, MemberHealth>;
}

export function newRoutingState(): RoutingState {
  return { tables: new Map(), health: new Map() };
}

export interface RoutingServiceOptions {
  now?: () => number;
  /** keep tables and member health in this state (shared by several services) */
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
}

export class RoutingService {
  private readonly tables: Map<string, RoutingTable>;
  private readonly refreshing = new Map<string, Promise<RoutingTable>>();
  private readonly health: Map<string, MemberHealth>;
  private readonly waitUntil: ((work: Promise<unknown>) => void) | undefined;
  private readonly inFlight = new Map<string, number>();
  private readonly now: () => number;
  private readonly ejectMs: number;
  private readonly maxEjectMs: number;
  private rotation = 0;
  /** region -> all regions by distance from it (the topology is fixed for the service's life) */
  private readonly orders = new Map<string, string[]>();
  private readonly probing = new Set<string>();
  /** per table: no new refresh attempt before this time (after losing the fleet lock) */
  private readonly refreshBackoff = new Map<string, number>();
  private readonly instanceId: string;
  private readonly staleGraceMs: number;
  private readonly lockMs: number;
  discoveries = 0;
  invalidationsReceived = 0;

  constructor(
    private readonly topology: Topology,
    private readonly transport: Transport,
    private readonly shared: Cache | undefined,
    options: RoutingServiceOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    const state = options.state ?? newRoutingState();
    this.tables = state.tables;
    this.health = state.health;
    this.waitUntil = options.waitUntil;
    this.ejectMs = options.ejectMs ?? 1000;
    this.maxEjectMs = options.maxEjectMs ?? 30000;
    this.instanceId = options.instanceId ?? Math.random().toString(36).slice(2);
    this.staleGraceMs = options.staleGraceMs ?? 60_000;
    this.lockMs = options.lockMs ?? 5_000;
  }

  /** Listens for fleet-wide invalidations (call once after construction). */
  async start(): Promise<void> {
    if (!this.shared) return;
    await this.shared.subscribe(INVALIDATION_CHANNEL, (message) => {
      try {
        const m = JSON.parse(message) as { key: string; from: string };
        if (m.from === this.instanceId) return;
        this.invalidationsReceived++;
        this.tables.delete(m.key);
      } catch {
        // not ours
      }
    });
  }

  private key(cluster: string, database: string): string {
    return `rt:${cluster}:${database}`;
  }

  /** The routing table for a shard, and where it came from. */
  async tableFor(cluster: string, database: string): Promise<{ table: RoutingTable; source: TableSource }> {
    const key = this.key(cluster, database);
    const mem = this.tables.get(key);
    if (mem && mem.expiresAt > this.now()) return { table: mem, source: 'memory' };
    if (mem) {
      // stale: serve it while one refresh runs (stale-while-revalidate)
      if ((this.refreshBackoff.get(key) ?? 0) <= this.now()) {
        const work = this.refresh(cluster, database).catch(() => undefined);
        this.waitUntil?.(work);
      }
      return { table: mem, source: 'memory' };
    }
    const table = await this.refresh(cluster, database);
    return { table, source: table.origin };
  }

  private readShared(raw: string | null): RoutingTable | undefined {
    if (!raw) return undefined;
    try {
      const t = JSON.parse(raw) as RoutingTable;
      return Array.isArray(t.writers) && Array.isArray(t.readers) ? { ...t, origin: 'redis' } : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Refreshes a table. Fleet-wide, one instance discovers per table expiry: a fresh table in the
   * shared cache is taken as is; otherwise the instance that wins the table's lock discovers and
   * publishes it, and the others keep serving what they have (or wait briefly for the winner).
   * One refresh per table at a time in this process.
   */
  refresh(cluster: string, database: string): Promise<RoutingTable> {
    const key = this.key(cluster, database);
    const running = this.refreshing.get(key);
    if (running) return running;
    const p = this.refreshOnce(cluster, database, key).finally(() => this.refreshing.delete(key));
    this.refreshing.set(key, p);
    return p;
  }

  private async refreshOnce(cluster: string, database: string, key: string): Promise<RoutingTable> {
    const shared = this.shared;
    const raw = shared ? await shared.get(key) : null;
    if (!shared || !shared.healthy()) {
      // no fleet (or Redis down): this instance discovers on its own
      const table = await this.discover(cluster, database);
      this.tables.set(key, table);
      return table;
    }
    const fromShared = this.readShared(raw);
    if (fromShared && fromShared.expiresAt > this.now()) {
      this.tables.set(key, fromShared);
      return fromShared;
    }
    const token = `${this.instanceId}:${this.now()}:${Math.random()}`;
    if (await shared.tryLock(`lock:${key}`, token, this.lockMs)) {
      try {
        const table = await this.discover(cluster, database);
        this.tables.set(key, table);
        await shared.set(key, JSON.stringify(table), table.expiresAt - table.fetchedAt + this.staleGraceMs);
        this.refreshBackoff.delete(key);
        return table;
      } finally {
        await shared.unlock(`lock:${key}`, token);
      }
    }
    // another instance is discovering this table
    const fallback = this.tables.get(key) ?? fromShared;
    if (fallback) {
      this.refreshBackoff.set(key, this.now() + 100);
      if (!this.tables.has(key)) this.tables.set(key, fallback);
      return fallback;
    }
    // nothing to serve: wait for the winner's table, then discover ourselves
    for (let waited = 0; waited < 2000; waited += 50) {
      await new Promise((r) => setTimeout(r, 50));
      const t = this.readShared(await shared.get(key));
      if (t && t.expiresAt > this.now()) {
        this.tables.set(key, t);
        return t;
      }
    }
    const table = await this.discover(cluster, database);
    this.tables.set(key, table);
    return table;
  }

  private async discover(cluster: string, database: string): Promise<RoutingTable> {
    const c = this.topology.clusters[cluster];
    if (!c) throw new GatewayError(Codes.Internal, `Unknown cluster ${cluster}.`);
    const known = this.tables.get(this.key(cluster, database))?.routers ?? [];
    const seeds = c.routers.map((u) => u.replace(/^[a-z0-9+]+:\/\//, '').replace(/\/$/, ''));
    const routers = [...new Set([...known, ...seeds])];
    let lastError: unknown;
    for (const router of routers) {
      try {
        this.discoveries++;
        const data = await this.transport.fetchRoutingTable(cluster, router, database, c.routingContext);
        const ttl = Math.max(1, Math.min(data.ttlSeconds, this.topology.routing.maxRoutingTableTtlSeconds));
        const fetchedAt = this.now();
        return { ...data, cluster, fetchedAt, expiresAt: fetchedAt + ttl * 1000, origin: 'discovery' };
      } catch (err) {
        lastError = err;
        if (err instanceof GatewayError && err.code === Codes.DatabaseNotFound) throw err;
        if (err instanceof GatewayError && err.code.startsWith('Neo.ClientError.Security.')) break;
      }
    }
    if (lastError instanceof GatewayError && lastError.code.startsWith('Neo.ClientError.Security.')) {
      throw new GatewayError(Codes.DatabaseUnavailable, `The gateway could not authenticate to cluster '${cluster}'.`, { status: 503, cause: lastError });
    }
    throw new GatewayError(Codes.DatabaseUnavailable, `No router of cluster '${cluster}' answered with a routing table for '${database}'.`, { status: 503, retryable: true, cause: lastError });
  }

  /**
   * Drops a table everywhere (NotALeader, ForbiddenOnReadOnlyDatabase, a failed member): here,
   * in the shared cache, and, by pub/sub, in every other instance's memory.
   */
  async invalidate(cluster: string, database: string): Promise<void> {
    const key = this.key(cluster, database);
    this.tables.delete(key);
    this.refreshBackoff.delete(key);
    if (this.shared) {
      await this.shared.del(key);
      await this.shared.publish(INVALIDATION_CHANNEL, JSON.stringify({ key, from: this.instanceId }));
    }
  }

  private memberKey(cluster: string, address: string): string {
    return `${cluster}/${address}`;
  }

  /**
   * A member is healthy unless ejected. When its ejection ends it is probed (RETURN 1) before
   * traffic returns to it; a failed probe ejects it again, for longer.
   */
  isHealthy(cluster: string, address: string, database?: string): boolean {
    const k = this.memberKey(cluster, address);
    const h = this.health.get(k);
    if (!h) return true;
    if (h.ejectedUntil > this.now()) return false;
    if (database !== undefined && !this.probing.has(k)) {
      this.probing.add(k);
      void this.transport
        .run({ cluster, address }, { database, statement: 'RETURN 1', parameters: {}, accessMode: 'READ', bookmarks: [], maxRows: 1, deadline: this.now() + 5000 })
        .then(
          () => this.markHealthy(cluster, address),
          () => this.markFailed(cluster, address),
        )
        .finally(() => this.probing.delete(k));
    }
    return false;
  }

  /** A member failed: eject it for a back-off period (doubling per consecutive failure). */
  markFailed(cluster: string, address: string): void {
    const k = this.memberKey(cluster, address);
    const h = this.health.get(k) ?? { failures: 0, ejectedUntil: 0 };
    h.failures++;
    h.ejectedUntil = this.now() + Math.min(this.maxEjectMs, this.ejectMs * 2 ** (h.failures - 1));
    this.health.set(k, h);
  }

  markHealthy(cluster: string, address: string): void {
    this.health.delete(this.memberKey(cluster, address));
  }

  acquire(cluster: string, address: string): () => void {
    const k = this.memberKey(cluster, address);
    this.inFlight.set(k, (this.inFlight.get(k) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight.set(k, (this.inFlight.get(k) ?? 1) - 1);
    };
  }

  /** Chooses the member for one shard of one request. */
  async route(req: RouteRequest): Promise<Route> {
    const shard = this.topology.shards[req.shard];
    if (!shard) throw new GatewayError(Codes.DatabaseNotFound, `Database does not exist. Database name: '${req.shard}'.`);
    const { table, source } = await this.tableFor(shard.cluster, shard.database);
    const cluster = shard.cluster;
    const memberRef = (address: string): MemberRef => {
      const http = this.topology.clusters[cluster]?.members[address]?.http;
      return http === undefined ? { cluster, address } : { cluster, address, http };
    };
    const exclude = req.exclude ?? new Set<string>();
    if (req.mode === 'WRITE') {
      const writer = table.writers.find((w) => !exclude.has(w)) ?? table.writers[0];
      if (!writer) {
        throw new GatewayError(Codes.DatabaseUnavailable, `Shard '${req.shard}' has no writer right now (no leader in the routing table).`, { status: 503, retryable: true });
      }
      return { shard: req.shard, member: memberRef(writer), role: 'WRITE', region: memberRegion(this.topology, cluster, writer), cache: source };
    }
    const readers = table.readers.length > 0 ? table.readers : table.writers;
    const fresh = readers.filter((a) => !exclude.has(a));
    const candidates: Candidate[] = (fresh.length > 0 ? fresh : readers)
      .map((address) => ({
        address,
        region: memberRegion(this.topology, cluster, address),
        inFlight: this.inFlight.get(this.memberKey(cluster, address)) ?? 0,
        healthy: this.isHealthy(cluster, address, table.database),
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
        throw new GatewayError(Codes.NoReaderInRegion, `Shard '${req.shard}' has no reader in pinned region '${strict}' and region pins are strict.`, { status: 503 });
      }
      throw new GatewayError(Codes.DatabaseUnavailable, `Shard '${req.shard}' has no reader available.`, { status: 503, retryable: true });
    }
    return { shard: req.shard, member: memberRef(choice.address), role: 'READ', region: choice.region, cache: source };
  }

  /** A snapshot for /topology and /ready. */
  snapshot(): { key: string; table: RoutingTable }[] {
    return [...this.tables.entries()].map(([key, table]) => ({ key, table }));
  }

  memberState(cluster: string, address: string): { healthy: boolean; inFlight: number; failures: number } {
    const k = this.memberKey(cluster, address);
    return { healthy: this.isHealthy(cluster, address), inFlight: this.inFlight.get(k) ?? 0, failures: this.health.get(k)?.failures ?? 0 };
  }
}
