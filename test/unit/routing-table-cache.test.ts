/**
 * The routing-table cache on a fake clock, a fake sleep, the in-memory Cache port as the shared
 * store and a scripted discovery: memory hits, stale-while-revalidate, one refresh per process,
 * the fleet lock, invalidation (pub/sub included), an unhealthy store, the TTL cap.
 */
import { describe, expect, it } from 'vitest';
import type { Cache } from '../../src/cache/types.js';
import { TableCache, type TableCacheOptions, type TableDiscovery } from '../../src/routing/table-cache.js';
import { tableKey } from '../../src/routing/types.js';
import type { RoutingTableData } from '../../src/transport/types.js';
import { MemoryCache } from '../support/memory-cache.js';

const T0 = 1_700_000_000_000;
/** lets every pending promise callback and timer-free continuation run */
const settle = () => new Promise<void>((r) => setImmediate(r));

interface Gate {
  promise: Promise<void>;
  open(): void;
}
function gate(): Gate {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

/** A discovery that answers `ttlSeconds` tables numbered by call; `hold` keeps the next answers back until opened. */
class FakeDiscovery implements TableDiscovery {
  calls: { cluster: string; database: string; known: readonly string[] }[] = [];
  hold: Gate | undefined;
  constructor(public ttlSeconds = 10) {}
  async discover(cluster: string, database: string, known: readonly string[]): Promise<RoutingTableData> {
    this.calls.push({ cluster, database, known });
    const n = this.calls.length;
    if (this.hold) await this.hold.promise;
    return { database, ttlSeconds: this.ttlSeconds, writers: [`w${n}:7687`], readers: [`r${n}:7687`], routers: [`x${n}:7687`] };
  }
}

class Clock {
  t = T0;
  slept: number[] = [];
  now = () => this.t;
  /** a fake sleep: advances the clock and lets other work run; `onSleep` sees each call */
  onSleep: ((ms: number) => void) | undefined;
  sleep = async (ms: number) => {
    this.slept.push(ms);
    this.t += ms;
    this.onSleep?.(ms);
    await settle();
  };
}

function cache(discovery: TableDiscovery, store: Cache | undefined, clock: Clock, extra: Partial<TableCacheOptions> = {}): TableCache {
  return new TableCache(discovery, store, { maxTtlSeconds: 300, now: clock.now, sleep: clock.sleep, instanceId: `i${Math.random()}`, ...extra });
}

describe('one instance', () => {
  it('discovers once, then answers from memory until the TTL ends', async () => {
    const clock = new Clock();
    const d = new FakeDiscovery(10);
    const c = cache(d, new MemoryCache(clock.now), clock);
    const first = await c.tableFor('c1', 'neo4j');
    expect(first.source).toBe('discovery');
    expect(first.table).toMatchObject({ cluster: 'c1', database: 'neo4j', fetchedAt: T0, expiresAt: T0 + 10_000, origin: 'discovery', writers: ['w1:7687'] });
    clock.t += 9_999;
    const second = await c.tableFor('c1', 'neo4j');
    expect(second.source).toBe('memory');
    expect(second.table).toBe(first.table);
    expect(d.calls).toHaveLength(1);
  });

  it('past the TTL serves the stale table while exactly one refresh runs, then the new one', async () => {
    const clock = new Clock();
    const d = new FakeDiscovery(10);
    const background: Promise<unknown>[] = [];
    const c = cache(d, new MemoryCache(clock.now), clock, { waitUntil: (w) => background.push(w) });
    const first = (await c.tableFor('c1', 'neo4j')).table;
    clock.t += 10_000;
    d.hold = gate();
    for (let i = 0; i < 5; i++) {
      const r = await c.tableFor('c1', 'neo4j');
      expect(r).toEqual({ table: first, source: 'memory' });
    }
    await settle();
    expect(d.calls).toHaveLength(2);
    // the refresh was handed to the runtime
    expect(background.length).toBeGreaterThan(0);
    d.hold.open();
    await Promise.all(background);
    const after = await c.tableFor('c1', 'neo4j');
    expect(after.source).toBe('memory');
    expect(after.table.writers).toEqual(['w2:7687']);
    expect(after.table.fetchedAt).toBe(clock.t);
    // the refresh asked the routers of the table it replaced first
    expect(d.calls[1]!.known).toEqual(['x1:7687']);
  });

  it('coalesces concurrent refreshes of one table in one process', async () => {
    const clock = new Clock();
    const d = new FakeDiscovery();
    const c = cache(d, new MemoryCache(clock.now), clock);
    d.hold = gate();
    const waiting = Promise.all([c.tableFor('c1', 'neo4j'), c.tableFor('c1', 'neo4j'), c.refresh('c1', 'neo4j')]);
    await settle();
    expect(d.calls).toHaveLength(1);
    d.hold.open();
    const [a, b, r] = await waiting;
    expect(b.table).toBe(a.table);
    expect(r).toBe(a.table);
    // another table is refreshed on its own
    await c.tableFor('c1', 'other');
    expect(d.calls.map((x) => x.database)).toEqual(['neo4j', 'other']);
  });

  it('caps the TTL at maxTtlSeconds (and never goes below one second); the shared entry outlives it by staleGraceMs', async () => {
    const clock = new Clock();
    const store = new MemoryCache(clock.now);
    const d = new FakeDiscovery(3600);
    const c = cache(d, store, clock, { maxTtlSeconds: 300, staleGraceMs: 60_000 });
    const { table } = await c.tableFor('c1', 'neo4j');
    expect(table.expiresAt - table.fetchedAt).toBe(300_000);
    clock.t += 360_000 - 1;
    expect(await store.get(tableKey('c1', 'neo4j'))).not.toBeNull();
    clock.t += 1;
    expect(await store.get(tableKey('c1', 'neo4j'))).toBeNull();
    d.ttlSeconds = 0;
    const short = await c.refresh('c1', 'neo4j');
    expect(short.expiresAt - short.fetchedAt).toBe(1000);
  });

  it('without a shared store, discovers on its own', async () => {
    const clock = new Clock();
    const d = new FakeDiscovery();
    const c = cache(d, undefined, clock);
    expect((await c.tableFor('c1', 'neo4j')).source).toBe('discovery');
    await c.invalidate('c1', 'neo4j');
    expect(c.snapshot()).toEqual([]);
    expect((await c.tableFor('c1', 'neo4j')).source).toBe('discovery');
    expect(d.calls).toHaveLength(2);
  });
});

describe('two instances sharing one store', () => {
  it('only the lock holder discovers; the other waits for its table and takes it from the store', async () => {
    const clock = new Clock();
    const store = new MemoryCache(clock.now);
    const da = new FakeDiscovery();
    const db = new FakeDiscovery();
    const a = cache(da, store, clock);
    const b = cache(db, store, clock);
    da.hold = gate();
    const fromA = a.tableFor('c1', 'neo4j');
    await settle();
    expect(da.calls).toHaveLength(1);
    // b finds the lock taken and nothing to serve: it polls the store; a finishes meanwhile
    clock.onSleep = () => da.hold!.open();
    const fromB = await b.tableFor('c1', 'neo4j');
    expect(clock.slept[0]).toBe(50);
    expect((await fromA).source).toBe('discovery');
    expect(fromB.source).toBe('redis');
    expect(fromB.table.writers).toEqual(['w1:7687']);
    expect(db.calls).toHaveLength(0);
  });

  it('past the TTL: one discovers, the other serves its stale table meanwhile, then takes the published one', async () => {
    const clock = new Clock();
    const store = new MemoryCache(clock.now);
    const da = new FakeDiscovery(10);
    const db = new FakeDiscovery(10);
    const a = cache(da, store, clock);
    const b = cache(db, store, clock);
    await a.tableFor('c1', 'neo4j');
    const stale = (await b.tableFor('c1', 'neo4j')).table;
    expect(db.calls).toHaveLength(0);
    clock.t += 10_000;
    da.hold = gate();
    await a.tableFor('c1', 'neo4j'); // a's refresh starts and takes the lock
    await settle();
    expect(da.calls).toHaveLength(2);
    expect((await b.tableFor('c1', 'neo4j')).table).toBe(stale);
    await settle();
    expect(db.calls).toHaveLength(0);
    da.hold.open();
    await a.refresh('c1', 'neo4j');
    // b backs off briefly after losing the lock, then takes a's table
    clock.t += 100;
    expect((await b.tableFor('c1', 'neo4j')).table).toBe(stale);
    await settle();
    const fresh = await b.tableFor('c1', 'neo4j');
    expect(fresh.table.writers).toEqual(['w2:7687']);
    expect(fresh.table.origin).toBe('redis');
    expect(db.calls).toHaveLength(0);
  });

  it('an instance that read the stale table before the other published, and locks after it unlocked, takes the published table', async () => {
    const clock = new Clock();
    const store = new MemoryCache(clock.now);
    const da = new FakeDiscovery(10);
    const db = new FakeDiscovery(10);
    // b's store stops between b's read and b's lock
    const beforeLock = gate();
    let bReachedLock = false;
    const storeOfB: Cache = Object.assign(Object.create(store) as Cache, {
      tryLock: async (key: string, token: string, ttlMs: number) => {
        bReachedLock = true;
        await beforeLock.promise;
        return store.tryLock(key, token, ttlMs);
      },
    });
    const a = cache(da, store, clock);
    const b = cache(db, storeOfB, clock);
    await a.tableFor('c1', 'neo4j');
    clock.t += 10_000;
    const refreshOfB = b.refresh('c1', 'neo4j');
    await settle();
    expect(bReachedLock).toBe(true);
    // a discovers, publishes and unlocks while b is between its read and its lock
    await a.refresh('c1', 'neo4j');
    expect(da.calls).toHaveLength(2);
    beforeLock.open();
    const t = await refreshOfB;
    expect(t.writers).toEqual(['w2:7687']);
    expect(db.calls).toHaveLength(0);
  });

  it('an invalidation drops the table here, in the store and in the other instance', async () => {
    const clock = new Clock();
    const store = new MemoryCache(clock.now);
    const a = cache(new FakeDiscovery(), store, clock);
    const b = cache(new FakeDiscovery(), store, clock);
    await a.start();
    await b.start();
    await a.tableFor('c1', 'neo4j');
    await b.tableFor('c1', 'neo4j');
    await a.tableFor('c1', 'other');
    await b.tableFor('c1', 'other');
    expect(b.snapshot()).toHaveLength(2);
    await a.invalidate('c1', 'neo4j');
    expect(a.snapshot().map((x) => x.key)).toEqual([tableKey('c1', 'other')]);
    expect(b.snapshot().map((x) => x.key)).toEqual([tableKey('c1', 'other')]);
    expect(await store.get(tableKey('c1', 'neo4j'))).toBeNull();
    expect(await store.get(tableKey('c1', 'other'))).not.toBeNull();
    expect(b.invalidationsReceived).toBe(1);
    // an instance ignores its own message
    expect(a.invalidationsReceived).toBe(0);
    // and messages that are not invalidations
    await store.publish('routing-invalidations', 'not json');
    expect(b.invalidationsReceived).toBe(1);
  });

  it('with the store unhealthy, each instance discovers on its own', async () => {
    const clock = new Clock();
    const store = new MemoryCache(clock.now);
    const down: Cache = Object.assign(Object.create(store) as Cache, { healthy: () => false });
    const da = new FakeDiscovery();
    const db = new FakeDiscovery();
    const a = cache(da, down, clock);
    const b = cache(db, down, clock);
    da.hold = gate();
    db.hold = gate();
    const both = Promise.all([a.tableFor('c1', 'neo4j'), b.tableFor('c1', 'neo4j')]);
    await settle();
    da.hold.open();
    db.hold.open();
    const [ra, rb] = await both;
    expect([ra.source, rb.source]).toEqual(['discovery', 'discovery']);
    expect([da.calls.length, db.calls.length]).toEqual([1, 1]);
    // nothing was published nor locked
    expect(await store.get(tableKey('c1', 'neo4j'))).toBeNull();
    expect(await store.get(`lock:${tableKey('c1', 'neo4j')}`)).toBeNull();
  });
});
