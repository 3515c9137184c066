/**
 * Cluster-aware routing (issue 3) against a scripted routing peer whose members are real sandbox
 * Neo4j instances: us (us-west), eu (eu), ap (placed in us-east). The data path never touches the
 * peer; which member answered is read from x-gateway-route.
 */
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import type { TopologyInput } from '../../src/config/schema.js';
import type { RunningGateway } from '../../src/adapters/node/server.js';
import { BoltRoutingPeer } from '../support/bolt-peer.js';
import { startRedis, type RedisServer } from '../support/redis.js';
import { KEYS, query, sandboxCommand, sha256, startTestGateway } from '../support/fixture.js';
import { FLEET_SECRET } from '../support/wrangler.js';

const addr = (name: 'us' | 'eu' | 'ap') => `127.0.0.1:${inject('sandbox').instances[name]!.bolt}`;
let peer: BoltRoutingPeer;
const started: RunningGateway[] = [];
let prefixCounter = 0;

function peerTopology(extra: Partial<TopologyInput> = {}): TopologyInput {
  return {
    regions: { 'us-west': { lat: 37.4, lon: -122.1 }, 'us-east': { lat: 39.0, lon: -77.5 }, eu: { lat: 50.1, lon: 8.7 } },
    defaultRegion: 'us-west',
    clusters: {
      'c-peer': {
        routers: [`neo4j://${peer.address}`],
        auth: { user: 'neo4j', passwordEnv: 'NEO4J_PASSWORD_C_US' },
        members: { [addr('us')]: { region: 'us-west' }, [addr('eu')]: { region: 'eu' }, [addr('ap')]: { region: 'us-east' } },
      },
    },
    shards: { orders: { cluster: 'c-peer', database: 'neo4j' } },
    apiKeys: [{ id: 'admin', sha256: sha256(KEYS.admin), databases: ['*'], modes: ['READ', 'WRITE'] }],
    // a fresh key space per gateway group, so tables cached by one test never leak into another
    cache: { keyPrefix: `n4gw-test-${process.pid}-${++prefixCounter}:` },
    limits: { requestDeadlineMs: 15000, maxBodyBytes: 1048576, maxRows: 10000, queryTimeoutMs: 10000, transactionIdleMs: 30000 },
    ...extra,
  };
}

async function gateway(topology: TopologyInput, opts: { redisUrl?: string; redis?: boolean } = {}): Promise<RunningGateway> {
  const g = await startTestGateway({ topology, ...(opts.redis === false ? { redis: false } : {}), ...(opts.redisUrl ? { env: {} } : {}) });
  started.push(g);
  return g;
}

const member = (res: { headers: Headers }) => res.headers.get('x-gateway-route')?.split('=')[1];

beforeAll(async () => {
  peer = new BoltRoutingPeer({ ttl: 300, writers: [addr('us')], readers: [addr('eu'), addr('ap')] });
  await peer.start();
});
afterEach(async () => {
  while (started.length) await started.pop()!.stop();
  peer.table = { ttl: 300, writers: [addr('us')], readers: [addr('eu'), addr('ap')] };
});
afterAll(async () => {
  await peer.stop();
});

describe('member selection', () => {
  it('serves a pinned read in the pinned region, an unpinned read in the nearest region, a write on the writer', async () => {
    const g = await gateway(peerTopology());
    const pinned = await query(g, 'orders', { statement: 'RETURN 1', accessMode: 'READ' }, { headers: { 'x-neo4j-region': 'eu' } });
    expect(pinned.status, pinned.text).toBe(202);
    expect(member(pinned)).toBe(`${addr('eu')};READ;eu`);
    // default region us-west has no reader: the nearest region with one is us-east
    const unpinned = await query(g, 'orders', { statement: 'RETURN 1', accessMode: 'READ' });
    expect(member(unpinned)).toBe(`${addr('ap')};READ;us-east`);
    const write = await query(g, 'orders', { statement: 'CREATE (:RoutingProbe) RETURN 1' });
    expect(write.status, write.text).toBe(202);
    expect(member(write)).toBe(`${addr('us')};WRITE;us-west`);
  });

  it('sends the configured routing context with every routing request', async () => {
    const t = peerTopology();
    t.clusters['c-peer']!.routingContext = { policy: 'eu-first', region: 'eu' };
    const g = await gateway(t);
    peer.lastContext = undefined;
    expect((await query(g, 'orders', { statement: 'RETURN 1', accessMode: 'READ' })).status).toBe(202);
    expect(peer.lastContext).toEqual({ policy: 'eu-first', region: 'eu' });
  });

  it('takes the request region from GATEWAY_REGION when no header pins one', async () => {
    const topology = peerTopology();
    const { startNodeGateway } = await import('../../src/adapters/node/server.js');
    const { parseTopology } = await import('../../src/config/load.js');
    const g = await startNodeGateway({
      topology: parseTopology(topology),
      env: { NEO4J_PASSWORD_C_US: inject('sandbox').password, GATEWAY_REGION: 'eu', LOG_LEVEL: 'error' },
      port: 0,
    });
    started.push(g);
    const res = await query(g, 'orders', { statement: 'RETURN 1', accessMode: 'READ' });
    expect(member(res)).toBe(`${addr('eu')};READ;eu`);
  });
});

describe('leader switch', () => {
  it('the next write succeeds on the new writer after exactly one refresh', async () => {
    const g = await gateway(peerTopology());
    const before = await query(g, 'orders', { statement: 'CREATE (n:LeaderSwitch) RETURN 1' });
    expect(member(before)).toBe(`${addr('us')};WRITE;us-west`);
    const calls = peer.routeCalls;
    peer.table = { ttl: 300, writers: [addr('eu')], readers: [addr('us'), addr('ap')] };
    await sandboxCommand({ cmd: 'readOnly', name: 'us', value: true });
    try {
      const after = await query(g, 'orders', { statement: 'CREATE (n:LeaderSwitch) RETURN 1' });
      expect(after.status, after.text).toBe(202);
      expect(member(after)).toBe(`${addr('eu')};WRITE;eu`);
      expect(peer.routeCalls - calls).toBe(1);
      // and a write without RETURN (refused before streaming) behaves the same
      const again = await query(g, 'orders', { statement: 'CREATE (:LeaderSwitch)' });
      expect(member(again)).toBe(`${addr('eu')};WRITE;eu`);
    } finally {
      await sandboxCommand({ cmd: 'readOnly', name: 'us', value: false });
    }
  });

  it('a write is not retried when it may have run', async () => {
    const g = await gateway(peerTopology());
    const marker = `once-${Date.now()}`;
    // a runtime error after the CREATE ran in the same transaction: Neo4j rolls it back, the gateway must not retry it
    const res = await query(g, 'orders', { statement: 'CREATE (n:Once {m: $m}) WITH n RETURN 1 / 0 AS boom', parameters: { m: marker } });
    expect(res.body.errors?.[0]?.code).toBe('Neo.ClientError.Statement.ArithmeticError');
    const count = await query(g, 'orders', { statement: 'MATCH (n:Once {m: $m}) RETURN count(n) AS c', parameters: { m: marker } });
    expect(count.body.data?.values).toEqual([[0]]);
  });
});

describe('member failure', () => {
  it('a reader stopped under load: no failed read, the member is ejected, and used again once back', async () => {
    const g = await gateway(peerTopology());
    const pin = { 'x-neo4j-region': 'eu' };
    const failures: string[] = [];
    const served: string[] = [];
    let running = true;
    const loops = Array.from({ length: 4 }, async () => {
      while (running) {
        const r = await query(g, 'orders', { statement: 'RETURN 1 AS x', accessMode: 'READ' }, { headers: pin });
        if (r.status !== 202) failures.push(`${r.status} ${r.text}`);
        else served.push(member(r)!);
      }
    });
    await new Promise((r) => setTimeout(r, 500));
    await sandboxCommand({ cmd: 'stop', name: 'eu' });
    const stoppedAt = served.length;
    await new Promise((r) => setTimeout(r, 1500));
    try {
      const topo = (await (await fetch(`${g.url}/topology`, { headers: { authorization: `Bearer ${KEYS.admin}` } })).json()) as {
        clusters: Record<string, { members: { address: string; healthy: boolean }[] }>;
      };
      expect(topo.clusters['c-peer']!.members.find((m) => m.address === addr('eu'))!.healthy).toBe(false);
      expect(served.slice(stoppedAt + 20).every((m) => m.startsWith(addr('ap')))).toBe(true);
    } finally {
      await sandboxCommand({ cmd: 'start', name: 'eu' });
    }
    // back: after its ejection ends and a probe succeeds, the pinned region's reader is used again
    const until = Date.now() + 20_000;
    while (Date.now() < until && !served.slice(-5).every((m) => m.startsWith(addr('eu')))) await new Promise((r) => setTimeout(r, 200));
    running = false;
    await Promise.all(loops);
    expect(failures).toEqual([]);
    expect(served.slice(-5).every((m) => m === `${addr('eu')};READ;eu`)).toBe(true);
  }, 60_000);
});

describe('a fleet sharing Redis', () => {
  it('two instances make one discovery per table expiry in total', async () => {
    peer.table = { ttl: 1, writers: [addr('us')], readers: [addr('eu'), addr('ap')] };
    const topology = peerTopology();
    const a = await gateway(topology);
    const b = await gateway(topology);
    const calls = peer.routeCalls;
    // the first statement of a process or an instance is slow (parser, pools); on a loaded machine
    // so slow that the steady load below would send few requests, and then make few discoveries
    await Promise.all([a, b].map((g) => query(g, 'orders', { statement: 'RETURN 1', accessMode: 'READ' })));
    const loadMs = 4200;
    const startedAt = Date.now();
    let ok = 0;
    const failures: string[] = [];
    await Promise.all(
      [a, b, a, b].map(async (g) => {
        while (Date.now() - startedAt < loadMs) {
          const r = await query(g, 'orders', { statement: 'RETURN 1', accessMode: 'READ' });
          if (r.status === 202) ok++;
          else failures.push(r.text);
        }
      }),
    );
    const elapsedS = (Date.now() - startedAt) / 1000;
    // the last request may have started a background refresh (stale-while-revalidate) that the
    // instance has counted but whose routing request has not reached the peer yet: let it land
    const counted = () => a.gateway.routing.discoveries + b.gateway.routing.discoveries;
    const until = Date.now() + 2000;
    while (Date.now() < until && peer.routeCalls - calls !== counted()) await new Promise((r) => setTimeout(r, 10));
    const discoveries = peer.routeCalls - calls;
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(50);
    // one per expiry (ttl 1 s) plus the first, never one per instance per expiry; only requests
    // start refreshes, and none starts after loadMs (the last one may end much later)
    expect(discoveries).toBeGreaterThanOrEqual(Math.floor(loadMs / 1000) - 1);
    expect(discoveries).toBeLessThanOrEqual(Math.ceil(elapsedS) + 1);
    expect(counted()).toBe(discoveries);
  });

  it('an invalidation on one instance reaches the other (pub/sub)', async () => {
    const topology = peerTopology();
    const a = await gateway(topology);
    const b = await gateway(topology);
    await query(a, 'orders', { statement: 'RETURN 1', accessMode: 'READ' });
    await query(b, 'orders', { statement: 'RETURN 1', accessMode: 'READ' });
    const before = b.gateway.routing.invalidationsReceived;
    await a.gateway.routing.invalidate('c-peer', 'neo4j');
    const until = Date.now() + 3000;
    while (Date.now() < until && b.gateway.routing.invalidationsReceived === before) await new Promise((r) => setTimeout(r, 20));
    expect(b.gateway.routing.invalidationsReceived).toBe(before + 1);
    const res = await query(b, 'orders', { statement: 'RETURN 1', accessMode: 'READ' });
    expect(['redis', 'discovery']).toContain(res.headers.get('x-gateway-cache'));
  });
});

describe('Redis failures', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis.stop();
  });

  it('Redis stopped mid-load: no failed request, /ready says degraded; back: used again; flushed: recovers', async () => {
    peer.table = { ttl: 1, writers: [addr('us')], readers: [addr('eu'), addr('ap')] };
    const { startNodeGateway } = await import('../../src/adapters/node/server.js');
    const { parseTopology } = await import('../../src/config/load.js');
    const g = await startNodeGateway({
      topology: parseTopology(peerTopology()),
      env: { NEO4J_PASSWORD_C_US: inject('sandbox').password, GATEWAY_SECRET: FLEET_SECRET, LOG_LEVEL: 'error' },
      redisUrl: redis.url,
      port: 0,
    });
    started.push(g);
    const failures: string[] = [];
    let running = true;
    let ok = 0;
    const loops = Array.from({ length: 3 }, async (_, i) => {
      while (running) {
        const r = await query(g, 'orders', { statement: 'RETURN 1', accessMode: i === 0 ? 'WRITE' : 'READ' });
        if (r.status === 202) ok++;
        else failures.push(r.text);
      }
    });
    await new Promise((r) => setTimeout(r, 500));
    await redis.stop();
    await new Promise((r) => setTimeout(r, 1500));
    const degraded = (await (await fetch(`${g.url}/ready`)).json()) as { status: string };
    expect(degraded.status).toBe('degraded');
    await redis.restart();
    await new Promise((r) => setTimeout(r, 2500));
    const ready = (await (await fetch(`${g.url}/ready`)).json()) as { status: string };
    expect(ready.status).toBe('ready');
    const { Redis } = await import('ioredis');
    const client = new Redis(redis.url);
    await client.flushall();
    client.disconnect();
    await new Promise((r) => setTimeout(r, 1500));
    running = false;
    await Promise.all(loops);
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(50);
  }, 30_000);
});

/**
 * A Neo4j 5 bookmark for the same database, one million transactions ahead: what a client holds
 * when its write happened on a primary this reader has not caught up with. Format ("FB:" +
 * base64): 0x91, bytes(16) database id, the transaction id as a PackStream int, 0x90.
 */
function aheadOf(bookmark: string): string {
  const raw = Buffer.from(bookmark.replace(/^FB:/, ''), 'base64');
  if (raw[0] !== 0x91 || raw[1] !== 0xcc || raw[2] !== 0x10 || raw[raw.length - 1] !== 0x90)
    throw new Error(`unexpected bookmark layout: ${raw.toString('hex')}`);
  const ahead = Buffer.concat([raw.subarray(0, 19), Buffer.from([0xca, 0x00, 0x0f, 0x42, 0x40]), Buffer.from([0x90])]);
  return `FB:${ahead.toString('base64').replace(/=+$/, '')}`;
}

describe('bookmarks', () => {
  it("read-your-writes: a read sent with the write's bookmarks, through another instance, sees the write", async () => {
    peer.table = { ttl: 300, writers: [addr('us')], readers: [addr('us'), addr('ap')] };
    const topology = peerTopology();
    const a = await gateway(topology);
    const b = await gateway(topology);
    const marker = `ryw-${Date.now()}`;
    const write = await query(a, 'orders', { statement: 'CREATE (n:Ryw {m: $m}) RETURN n.m AS m', parameters: { m: marker } });
    expect(write.status).toBe(202);
    const bookmarks = write.body.bookmarks!;
    expect(bookmarks).toHaveLength(1);
    expect(bookmarks[0]).toMatch(/^n4gw1:/);
    const read = await query(
      b,
      'orders',
      { statement: 'MATCH (n:Ryw {m: $m}) RETURN count(n) AS c', parameters: { m: marker }, accessMode: 'READ', bookmarks },
      { headers: { 'x-neo4j-region': 'us-west' } },
    );
    expect(read.status, read.text).toBe(202);
    expect(read.body.data?.values).toEqual([[1]]);
    expect(member(read)).toBe(`${addr('us')};READ;us-west`);
    // the token that comes back still carries the shard's bookmark
    expect(read.body.bookmarks?.[0]).toMatch(/^n4gw1:/);
  });

  it('a reader that cannot reach the bookmarks times out and the read falls back to the writer', async () => {
    const g = await gateway(peerTopology());
    // a real bookmark of eu's database (eu is a reader here), pushed a million transactions ahead
    const { direct } = await import('../support/fixture.js');
    const onEu = await direct('eu', { statement: 'CREATE (n:BookmarkSource) DELETE n' });
    const euBookmark = (onEu.body.bookmarks as string[])[0]!;
    const started = Date.now();
    const read = await query(
      g,
      'orders',
      { statement: 'RETURN 42 AS answer', accessMode: 'READ', bookmarks: [aheadOf(euBookmark)] },
      { headers: { 'x-neo4j-region': 'eu' } },
    );
    expect(read.status, read.text).toBe(202);
    expect(read.body.data?.values).toEqual([[42]]);
    expect(member(read)).toBe(`${addr('us')};WRITE;us-west`);
    // eu waited for its bookmark timeout (2 s in the sandbox) before the gateway moved on
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
  }, 30_000);
});
