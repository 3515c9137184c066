/**
 * The routing-table cache (DESIGN §4): one table per (cluster, database).
 *
 * Lookup order: this process's memory (the hot path: no I/O at all), then the shared cache
 * (Redis, through the Cache port), then discovery. A table past its TTL is served while one
 * refresh per table runs (stale-while-revalidate). Fleet-wide, one instance discovers per table
 * expiry: the one holding the table's lock in the shared cache. Invalidations drop a table here,
 * in the shared cache and, by pub/sub, in every other instance's memory.
 */
import type { Cache } from '../cache/types.js';
import type { RoutingTableData } from '../transport/types.js';
import { tableKey, type RoutingTable, type TableSource } from './types.js';

const INVALIDATION_CHANNEL = 'routing-invalidations';
/** after losing the fleet lock, no new refresh of that table before this long */
const REFRESH_BACKOFF_MS = 100;
/** with nothing to serve, how long (and how often) to look for the lock winner's table */
const WINNER_WAIT_MS = 2000;
const WINNER_POLL_MS = 50;

/** what the cache asks for a table it does not have (src/routing/discovery.ts) */
export interface TableDiscovery {
  discover(cluster: string, database: string, knownRouters: readonly string[]): Promise<RoutingTableData>;
}

/** what happened to a table (for logs and metrics) */
export interface TableEvents {
  /** a refresh got a table: by its own discovery, or from the shared cache (another instance's) */
  refreshed?(e: { cluster: string; database: string; source: 'discovered' | 'shared'; table: RoutingTable; previous: RoutingTable | undefined }): void;
  /** a refresh found no table (every router failed) */
  failed?(e: { cluster: string; database: string; error: unknown }): void;
}

export interface TableCacheOptions {
  /** upper bound on the TTL a discovered table is cached for (topology.routing.maxRoutingTableTtlSeconds) */
  maxTtlSeconds: number;
  /** keep tables in this map (shared by several caches: RoutingState.tables) */
  tables?: Map<string, RoutingTable>;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** hands background work (stale-while-revalidate refreshes) to the runtime (Workers: waitUntil) */
  waitUntil?: (work: Promise<unknown>) => void;
  /** names this instance in invalidation messages and lock tokens */
  instanceId?: string;
  /** how long a table stays in the shared cache past its TTL, to be served while one refresh runs */
  staleGraceMs?: number;
  /** how long a refresh lock is held at most */
  lockMs?: number;
  events?: TableEvents;
}

export class TableCache {
  private readonly tables: Map<string, RoutingTable>;
  private readonly refreshing = new Map<string, Promise<RoutingTable>>();
  /** per table: no new refresh attempt before this time (after losing the fleet lock) */
  private readonly refreshBackoff = new Map<string, number>();
  private readonly maxTtlSeconds: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly waitUntil: ((work: Promise<unknown>) => void) | undefined;
  private readonly instanceId: string;
  private readonly staleGraceMs: number;
  private readonly lockMs: number;
  private readonly events: TableEvents;
  /** invalidations received from other instances */
  invalidationsReceived = 0;

  constructor(
    private readonly discovery: TableDiscovery,
    private readonly shared: Cache | undefined,
    options: TableCacheOptions,
  ) {
    this.maxTtlSeconds = options.maxTtlSeconds;
    this.tables = options.tables ?? new Map();
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.waitUntil = options.waitUntil;
    this.instanceId = options.instanceId ?? Math.random().toString(36).slice(2);
    this.staleGraceMs = options.staleGraceMs ?? 60_000;
    this.lockMs = options.lockMs ?? 5_000;
    this.events = options.events ?? {};
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

  /** The routing table of (cluster, database), and where it came from. */
  async tableFor(cluster: string, database: string): Promise<{ table: RoutingTable; source: TableSource }> {
    const key = tableKey(cluster, database);
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

  /**
   * Refreshes a table. Fleet-wide, one instance discovers per table expiry: a fresh table in the
   * shared cache is taken as is; otherwise the instance that wins the table's lock discovers and
   * publishes it, and the others keep serving what they have (or wait briefly for the winner).
   * One refresh per table at a time in this process.
   */
  refresh(cluster: string, database: string): Promise<RoutingTable> {
    const key = tableKey(cluster, database);
    const running = this.refreshing.get(key);
    if (running) return running;
    const previous = this.tables.get(key);
    const p = this.refreshOnce(cluster, database, key)
      .then(
        (table) => {
          // serving the table it already had (another instance holds the lock) is no refresh
          if (table !== previous)
            this.events.refreshed?.({ cluster, database, source: table.origin === 'discovery' ? 'discovered' : 'shared', table, previous });
          return table;
        },
        (error: unknown) => {
          this.events.failed?.({ cluster, database, error });
          throw error;
        },
      )
      .finally(() => this.refreshing.delete(key));
    this.refreshing.set(key, p);
    return p;
  }

  private async refreshOnce(cluster: string, database: string, key: string): Promise<RoutingTable> {
    const shared = this.shared;
    const raw = shared ? await shared.get(key) : null;
    if (!shared || !shared.healthy()) {
      // no fleet (or Redis down): this instance discovers on its own
      return this.discover(cluster, database, key);
    }
    const inShared = this.readShared(raw);
    if (inShared && inShared.expiresAt > this.now()) return this.keep(key, inShared);
    const token = `${this.instanceId}:${this.now()}:${Math.random()}`;
    if (await shared.tryLock(`lock:${key}`, token, this.lockMs)) {
      try {
        // the previous holder may have published between our read and our lock: take its table
        const published = this.fresh(this.readShared(await shared.get(key)));
        if (published) return this.keep(key, published);
        const table = await this.discover(cluster, database, key);
        await shared.set(key, JSON.stringify(table), table.expiresAt - table.fetchedAt + this.staleGraceMs);
        this.refreshBackoff.delete(key);
        return table;
      } finally {
        await shared.unlock(`lock:${key}`, token);
      }
    }
    // another instance is discovering this table
    const fallback = this.tables.get(key) ?? inShared;
    if (fallback) {
      this.refreshBackoff.set(key, this.now() + REFRESH_BACKOFF_MS);
      if (!this.tables.has(key)) this.tables.set(key, fallback);
      return fallback;
    }
    // nothing to serve: wait for the winner's table, then discover ourselves
    for (let waited = 0; waited < WINNER_WAIT_MS; waited += WINNER_POLL_MS) {
      await this.sleep(WINNER_POLL_MS);
      const t = this.fresh(this.readShared(await shared.get(key)));
      if (t) return this.keep(key, t);
    }
    return this.discover(cluster, database, key);
  }

  /** Discovers a table and keeps it in memory, its TTL capped by maxTtlSeconds. */
  private async discover(cluster: string, database: string, key: string): Promise<RoutingTable> {
    const data = await this.discovery.discover(cluster, database, this.tables.get(key)?.routers ?? []);
    const ttl = Math.max(1, Math.min(data.ttlSeconds, this.maxTtlSeconds));
    const fetchedAt = this.now();
    return this.keep(key, { ...data, cluster, fetchedAt, expiresAt: fetchedAt + ttl * 1000, origin: 'discovery' });
  }

  private keep(key: string, table: RoutingTable): RoutingTable {
    this.tables.set(key, table);
    return table;
  }

  private fresh(table: RoutingTable | undefined): RoutingTable | undefined {
    return table && table.expiresAt > this.now() ? table : undefined;
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
   * Drops a table everywhere (NotALeader, ForbiddenOnReadOnlyDatabase, a failed member): here,
   * in the shared cache, and, by pub/sub, in every other instance's memory.
   */
  async invalidate(cluster: string, database: string): Promise<void> {
    const key = tableKey(cluster, database);
    this.tables.delete(key);
    this.refreshBackoff.delete(key);
    if (this.shared) {
      await this.shared.del(key);
      await this.shared.publish(INVALIDATION_CHANNEL, JSON.stringify({ key, from: this.instanceId }));
    }
  }

  /** Every table in memory (for /topology, /ready and metrics). */
  snapshot(): { key: string; table: RoutingTable }[] {
    return [...this.tables.entries()].map(([key, table]) => ({ key, table }));
  }
}
