/**
 * Per-key limits decided in memory: the effective limits of a key, concurrency per key, admission
 * (concurrency then rate), the limit state kept per anchor, and open-transaction slots.
 */
import { describe, expect, it } from 'vitest';
import { parseTopology } from '../../src/config/load.js';
import { Admission, limitStateFor, newLimitState } from '../../src/limits/admission.js';
import { ConcurrencyLimiter } from '../../src/limits/concurrency.js';
import { defaultBurst, effectiveLimits } from '../../src/limits/effective.js';
import { TransactionRegistry, type TransactionSlot } from '../../src/http/transactions/registry.js';
import type { Route } from '../../src/routing/types.js';
import type { TransactionHandle } from '../../src/transport/types.js';

const topology = parseTopology({
  regions: { r: { lat: 0, lon: 0 } },
  defaultRegion: 'r',
  clusters: {},
  shards: {},
  limits: { maxConcurrentPerKey: 3, maxOpenTransactionsPerKey: 2, maxResultBytes: 1000, maxRows: 10 },
});
const limits = topology.limits;

describe('effectiveLimits', () => {
  it("takes a key's overrides, else the global limits; no rate limit unless the key has one", () => {
    expect(effectiveLimits({}, limits)).toEqual({
      maxResultBytes: 1000,
      maxRows: 10,
      maxConcurrent: 3,
      maxOpenTransactions: 2,
      requestsPerSecond: undefined,
      burst: 0,
    });
    expect(effectiveLimits({ maxResultBytes: 5, maxRows: 6, maxConcurrent: 7, maxOpenTransactions: 8, requestsPerSecond: 2.5 }, limits)).toEqual({
      maxResultBytes: 5,
      maxRows: 6,
      maxConcurrent: 7,
      maxOpenTransactions: 8,
      requestsPerSecond: 2.5,
      burst: 3, // one second of the rate, rounded up
    });
    expect(effectiveLimits({ requestsPerSecond: 100, burst: 10 }, limits).burst).toBe(10);
    expect(defaultBurst(0.2)).toBe(1);
  });
});

describe('ConcurrencyLimiter', () => {
  it('admits up to the limit per key, refuses past it with 429 and Retry-After, frees a slot per release (once)', () => {
    const c = new ConcurrencyLimiter();
    const a1 = c.acquire('a', 2);
    c.acquire('a', 2);
    expect(() => c.acquire('a', 2)).toThrow(
      expect.objectContaining({ code: 'Neo.TransientError.Gateway.TooManyConcurrentRequests', status: 429, headers: { 'retry-after': '1' } }),
    );
    // another key is not affected
    c.acquire('b', 2);
    a1();
    a1(); // idempotent
    expect(c.inFlight('a')).toBe(1);
    c.acquire('a', 2);
    expect(() => c.acquire('a', 2)).toThrow();
  });
});

describe('Admission', () => {
  it('refuses past the rate and gives the concurrency slot back when it does', () => {
    const state = newLimitState('t');
    const admission = new Admission({ state, limits, now: () => 0 });
    const key = { id: 'k', limits: { requestsPerSecond: 1, burst: 2 } };
    admission.admit(key)();
    admission.admit(key)();
    expect(() => admission.admit(key)).toThrow(expect.objectContaining({ code: 'Neo.TransientError.Gateway.RateLimited', status: 429 }));
    expect(state.running.get('k') ?? 0).toBe(0);
  });

  it('keys without a rate limit are only bounded by concurrency', () => {
    const admission = new Admission({ state: newLimitState('t'), limits, now: () => 0 });
    const releases = Array.from({ length: 3 }, () => admission.admit({ id: 'k', limits: {} }));
    expect(() => admission.admit({ id: 'k', limits: {} })).toThrow(expect.objectContaining({ status: 429 }));
    for (const r of releases) r();
    for (let i = 0; i < 100; i++) admission.admit({ id: 'k', limits: {} })();
  });

  it('keeps its state per anchor (Workers: per isolate), with an instance id of its own', () => {
    const anchor = {};
    expect(limitStateFor(anchor, 'gw')).toBe(limitStateFor(anchor, 'gw'));
    const other = limitStateFor({}, 'gw');
    expect(other).not.toBe(limitStateFor(anchor, 'gw'));
    expect(other.rate.instance).not.toBe(limitStateFor(anchor, 'gw').rate.instance);
    expect(other.rate.instance.startsWith('gw/')).toBe(true);
  });
});

describe('TransactionRegistry slots', () => {
  const handle = (): TransactionHandle & { rolledBack: number } => {
    const h = {
      rolledBack: 0,
      member: { cluster: 'c', address: 'a:1' },
      run: () => Promise.reject(new Error('unused')),
      commit: () => Promise.resolve([]),
      rollback: () => {
        h.rolledBack++;
        return Promise.resolve();
      },
    };
    return h;
  };
  const route = { shard: 's', member: { cluster: 'c', address: 'a:1' }, role: 'READ', region: 'r', cache: 'memory' } as Route;
  const open = (reg: TransactionRegistry, slot: TransactionSlot) =>
    reg.add({ principal: slot.principal, database: 'db', shard: 's', mode: 'READ', handle: handle(), route, sentBookmarks: {}, slot });

  it('caps per key and in total, before anything is opened; a slot comes back when its transaction ends or its begin fails', () => {
    const reg = new TransactionRegistry(60_000, () => 0);
    const a = [reg.reserve('a', 2, 3), reg.reserve('a', 2, 3)];
    expect(() => reg.reserve('a', 2, 3)).toThrow(expect.objectContaining({ code: 'Neo.TransientError.Gateway.TooManyTransactions', status: 429 }));
    const b = reg.reserve('b', 2, 3);
    // the instance's total (3) is reached: 'b' is refused though it holds only one
    expect(() => reg.reserve('b', 2, 3)).toThrow(expect.objectContaining({ message: expect.stringContaining('instance') }));
    b.cancel();
    b.cancel(); // idempotent
    const tx = open(reg, a[0]!);
    a[1]!.cancel();
    expect(reg.heldBy('a')).toBe(1);
    reg.remove(tx);
    expect(reg.heldBy('a')).toBe(0);
    reg.reserve('a', 2, 3);
    reg.reserve('a', 2, 3);
  });

  it("Retry-After is when the key's first transaction would idle out", () => {
    let t = 0;
    const reg = new TransactionRegistry(30_000, () => t);
    open(reg, reg.reserve('a', 1, 10));
    t = 12_000;
    try {
      reg.reserve('a', 1, 10);
      expect.unreachable();
    } catch (err) {
      expect((err as { headers: Record<string, string> }).headers['retry-after']).toBe('18');
    }
    return reg.closeAll();
  });

  it('an idle rollback gives the slot back', async () => {
    const reg = new TransactionRegistry(20);
    const tx = open(reg, reg.reserve('a', 1, 10));
    expect(reg.heldBy('a')).toBe(1);
    await new Promise((r) => setTimeout(r, 60));
    expect(reg.heldBy('a')).toBe(0);
    expect((tx.handle as ReturnType<typeof handle>).rolledBack).toBe(1);
  });
});
