/**
 * Member health on a fake clock: ejection with doubling back-off, a side-effect-free isHealthy,
 * due probes; and, through the router with a scripted transport, the probe of an ejected member
 * before traffic returns to it.
 */
import { describe, expect, it } from 'vitest';
import { parseTopology } from '../../src/config/load.js';
import { InFlight } from '../../src/routing/in-flight.js';
import { MemberHealthBook } from '../../src/routing/member-health.js';
import { Router } from '../../src/routing/router.js';
import { memberKey, newRoutingState, type MemberHealth } from '../../src/routing/types.js';
import type { MemberRef, RunRequest, RunResult, Transport } from '../../src/transport/types.js';

const T0 = 1_700_000_000_000;

function book(ejectMs = 1000, maxEjectMs = 30_000) {
  const clock = { t: T0 };
  const health = new Map<string, MemberHealth>();
  return { clock, health, book: new MemberHealthBook(health, { now: () => clock.t, ejectMs, maxEjectMs }) };
}

describe('member health', () => {
  it('ejects a failed member for a period that doubles per consecutive failure, up to maxEjectMs', () => {
    const { clock, health, book: h } = book(1000, 10_000);
    const periods: number[] = [];
    for (let i = 0; i < 6; i++) {
      h.markFailed('c1', 'a:1');
      periods.push(health.get(memberKey('c1', 'a:1'))!.ejectedUntil - clock.t);
    }
    expect(periods).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000]);
    expect(h.failures('c1', 'a:1')).toBe(6);
    h.markHealthy('c1', 'a:1');
    expect(h.failures('c1', 'a:1')).toBe(0);
    h.markFailed('c1', 'a:1');
    expect(health.get(memberKey('c1', 'a:1'))!.ejectedUntil - clock.t).toBe(1000);
  });

  it('isHealthy only reads: an ejected member stays unhealthy past its period until a probe succeeds', () => {
    const { clock, health, book: h } = book();
    expect(h.isHealthy('c1', 'a:1')).toBe(true);
    h.markFailed('c1', 'a:1');
    const before = JSON.stringify([...health]);
    expect(h.isHealthy('c1', 'a:1')).toBe(false);
    clock.t += 5000;
    for (let i = 0; i < 3; i++) expect(h.isHealthy('c1', 'a:1')).toBe(false);
    expect(JSON.stringify([...health])).toBe(before);
    // no probe was claimed by asking
    expect(h.dueForProbe('c1', ['a:1'])).toEqual(['a:1']);
    // another cluster's member of the same address is another member
    expect(h.isHealthy('c2', 'a:1')).toBe(true);
  });

  it('a member is due for one probe at a time, once its period has ended', () => {
    const { clock, book: h } = book();
    h.markFailed('c1', 'a:1');
    h.markFailed('c1', 'b:1');
    h.markFailed('c1', 'b:1');
    expect(h.dueForProbe('c1', ['a:1', 'b:1', 'c:1'])).toEqual([]);
    expect(h.beginProbe('c1', 'a:1')).toBe(false);
    clock.t += 1000;
    expect(h.dueForProbe('c1', ['a:1', 'b:1', 'c:1'])).toEqual(['a:1']);
    expect(h.beginProbe('c1', 'a:1')).toBe(true);
    expect(h.beginProbe('c1', 'a:1')).toBe(false);
    expect(h.dueForProbe('c1', ['a:1', 'b:1'])).toEqual([]);
    clock.t += 1000;
    expect(h.dueForProbe('c1', ['a:1', 'b:1'])).toEqual(['b:1']);
  });

  it('a successful probe restores the member; a failed one ejects it again, for longer', () => {
    const { clock, health, book: h } = book();
    h.markFailed('c1', 'a:1');
    clock.t += 1000;
    expect(h.beginProbe('c1', 'a:1')).toBe(true);
    h.endProbe('c1', 'a:1', false);
    expect(h.isHealthy('c1', 'a:1')).toBe(false);
    expect(h.failures('c1', 'a:1')).toBe(2);
    expect(health.get(memberKey('c1', 'a:1'))!.ejectedUntil).toBe(clock.t + 2000);
    clock.t += 1999;
    expect(h.beginProbe('c1', 'a:1')).toBe(false);
    clock.t += 1;
    expect(h.beginProbe('c1', 'a:1')).toBe(true);
    h.endProbe('c1', 'a:1', true);
    expect(h.isHealthy('c1', 'a:1')).toBe(true);
    expect(h.failures('c1', 'a:1')).toBe(0);
    expect(h.dueForProbe('c1', ['a:1'])).toEqual([]);
  });
});

describe('in-flight counts', () => {
  it('count per member until released; a release counts once', () => {
    const f = new InFlight();
    const r1 = f.acquire('c1', 'a:1');
    f.acquire('c1', 'a:1');
    expect(f.count('c1', 'a:1')).toBe(2);
    expect(f.count('c2', 'a:1')).toBe(0);
    r1();
    r1();
    expect(f.count('c1', 'a:1')).toBe(1);
  });
});

describe('the router probes an ejected reader before using it again', () => {
  const topology = parseTopology({
    regions: { eu: { lat: 50, lon: 8 }, us: { lat: 39, lon: -77 } },
    defaultRegion: 'eu',
    clusters: {
      c1: {
        routers: ['neo4j://r:7687'],
        auth: { user: 'neo4j', passwordEnv: 'PW' },
        members: { 'eu:1': { region: 'eu' }, 'us:1': { region: 'us' }, 'w:1': { region: 'us' } },
      },
    },
    shards: { s: { cluster: 'c1', database: 'neo4j' } },
  });

  function setup() {
    const clock = { t: T0 };
    const probes: { member: MemberRef; req: RunRequest; settle: (ok: boolean) => void }[] = [];
    const transport: Pick<Transport, 'run' | 'fetchRoutingTable'> = {
      fetchRoutingTable: (_c, _r, database) => Promise.resolve({ database, ttlSeconds: 300, writers: ['w:1'], readers: ['eu:1', 'us:1'], routers: ['r:7687'] }),
      run: (member, req) =>
        new Promise<RunResult>((resolve, reject) => {
          probes.push({
            member,
            req,
            settle: (ok) => (ok ? resolve({ fields: ['1'], values: [], bookmarks: [], counters: {}, notifications: [] }) : reject(new Error('down'))),
          });
        }),
    };
    const state = newRoutingState();
    const router = new Router(topology, transport, undefined, { now: () => clock.t, state, ejectMs: 1000 });
    const read = async () => (await router.route({ shard: 's', mode: 'READ', region: 'eu', pinned: false })).member.address;
    return { clock, probes, router, read, state };
  }
  const tick = () => new Promise<void>((r) => setImmediate(r));

  it('no probe during the ejection; one probe after it; traffic returns only once the probe succeeded', async () => {
    const { clock, probes, router, read } = setup();
    expect(await read()).toBe('eu:1');
    router.markFailed('c1', 'eu:1');
    expect(await read()).toBe('us:1');
    expect(router.memberState('c1', 'eu:1')).toEqual({ healthy: false, inFlight: 0, failures: 1 });
    expect(probes).toHaveLength(0);
    clock.t += 1000;
    expect(await read()).toBe('us:1');
    expect(await read()).toBe('us:1');
    // memberState (for /topology) starts nothing
    router.memberState('c1', 'eu:1');
    expect(probes).toHaveLength(1);
    expect(probes[0]!.member).toEqual({ cluster: 'c1', address: 'eu:1' });
    expect(probes[0]!.req).toMatchObject({ database: 'neo4j', statement: 'RETURN 1', accessMode: 'READ', maxRows: 1, deadline: clock.t + 5000 });
    probes[0]!.settle(true);
    await tick();
    expect(await read()).toBe('eu:1');
    expect(router.memberState('c1', 'eu:1').healthy).toBe(true);
  });

  it('a failed probe ejects the member again, for twice as long', async () => {
    const { clock, probes, router, read } = setup();
    router.markFailed('c1', 'eu:1');
    clock.t += 1000;
    await read();
    probes[0]!.settle(false);
    await tick();
    expect(router.memberState('c1', 'eu:1')).toMatchObject({ healthy: false, failures: 2 });
    clock.t += 1999;
    expect(await read()).toBe('us:1');
    expect(probes).toHaveLength(1);
    clock.t += 1;
    expect(await read()).toBe('us:1');
    expect(probes).toHaveLength(2);
  });

  it('writes neither probe nor avoid the writer', async () => {
    const { clock, probes, router } = setup();
    router.markFailed('c1', 'w:1');
    clock.t += 1000;
    expect((await router.route({ shard: 's', mode: 'WRITE', region: 'eu', pinned: false })).member.address).toBe('w:1');
    expect(probes).toHaveLength(0);
  });

  it('member health lives in the routing state, shared by routers built on it', async () => {
    const { state, router } = setup();
    router.markFailed('c1', 'eu:1');
    const other = new Router(
      topology,
      { run: () => Promise.reject(new Error('unused')), fetchRoutingTable: () => Promise.reject(new Error('unused')) },
      undefined,
      { state },
    );
    expect(other.memberState('c1', 'eu:1').healthy).toBe(false);
  });
});
