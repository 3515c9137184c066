/**
 * The fleet-wide rate limit, driven without Redis: several FleetRateLimiter instances (one per
 * simulated gateway instance) share a MemoryRateStore (the in-memory twin of the Redis script) on
 * a virtual clock, with store latency, and are hammered far above the limit.
 */
import { describe, expect, it } from 'vitest';
import { FleetRateLimiter, MemoryRateStore, exchangeOnBucket, newRateLimitState, type RateStore } from '../../src/limits/rate-limit.js';
import type { RateLeaseRequest } from '../../src/cache/types.js';

/** a virtual clock with timers; each step lets pending promises settle */
class Sim {
  t = 0;
  private timers: { at: number; fn: () => void }[] = [];
  later(ms: number, fn: () => void): void {
    this.timers.push({ at: this.t + ms, fn });
  }
  async step(): Promise<void> {
    this.t++;
    const due = this.timers.filter((x) => x.at <= this.t);
    this.timers = this.timers.filter((x) => x.at > this.t);
    for (const d of due) d.fn();
    await new Promise((r) => setImmediate(r));
  }
}

/** deterministic pseudo-random numbers (a seeded LCG) */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

interface Run {
  admitted: number[][];
  refused: number;
  retryAfter: number[];
  store: MemoryRateStore;
}

/**
 * Runs `instances` limiters for `ms` of virtual time. `load(i, t)` is how many requests instance
 * i receives in millisecond t; `down(t)` makes the store unreachable.
 */
async function simulate(opts: {
  instances: number;
  rate: number;
  burst: number;
  ms: number;
  load: (i: number, t: number) => number;
  latencyMs?: (rnd: () => number) => number;
  down?: (t: number) => boolean;
  seed?: number;
}): Promise<Run> {
  const sim = new Sim();
  const rnd = lcg(opts.seed ?? 7);
  const store = new MemoryRateStore(() => sim.t);
  const slow: RateStore = {
    rateLease: (key, req) =>
      new Promise((resolve) => {
        // the store answers after a latency; the exchange itself is atomic, at the time it arrives
        const there = Math.floor((opts.latencyMs?.(rnd) ?? 2) / 2);
        sim.later(there, () => {
          store.up = !(opts.down?.(sim.t) ?? false);
          void store.rateLease(key, req).then((g) => sim.later(there, () => resolve(g)));
        });
      }),
  };
  const limiters = Array.from(
    { length: opts.instances },
    (_, i) => new FleetRateLimiter({ state: newRateLimitState(`gw-${i}`), store: slow, now: () => sim.t }),
  );
  const admitted: number[][] = limiters.map(() => []);
  let refused = 0;
  const retryAfter: number[] = [];
  for (let t = 0; t < opts.ms; t++) {
    for (let i = 0; i < limiters.length; i++) {
      for (let k = opts.load(i, t); k > 0; k--) {
        const d = limiters[i]!.admit('app', opts.rate, opts.burst);
        if (d.admitted) admitted[i]!.push(sim.t);
        else {
          refused++;
          retryAfter.push(d.retryAfterSeconds);
        }
      }
    }
    await sim.step();
  }
  return { admitted, refused, retryAfter, store };
}

const total = (r: Run) => r.admitted.reduce((n, a) => n + a.length, 0);

/** the most admitted in any window of `w` ms (sliding by 10 ms), all instances together */
function maxInWindow(r: Run, w: number, from = 0): number {
  const all = r.admitted.flat().sort((a, b) => a - b);
  let best = 0;
  const end = all[all.length - 1] ?? 0;
  for (let a = from; a + w <= end + 1; a += 10) best = Math.max(best, all.filter((t) => t >= a && t < a + w).length);
  return best;
}

describe("exchangeOnBucket (the store's atomic step)", () => {
  const req = (over: Partial<RateLeaseRequest> = {}): RateLeaseRequest => ({
    rate: 10,
    burst: 20,
    want: 5,
    giveBack: 0,
    owed: 0,
    instance: 'a',
    activeMs: 1000,
    ...over,
  });

  it('starts full, grants what is wanted, refills at the rate, caps at the burst', () => {
    const inst = new Map<string, number>();
    let { bucket, grant } = exchangeOnBucket(undefined, inst, req({ want: 5 }), 0);
    expect(grant).toEqual({ granted: 5, instances: 1, remaining: 15 });
    expect(bucket.tokens).toBe(15);
    ({ bucket, grant } = exchangeOnBucket(bucket, inst, req({ want: 100 }), 500)); // +5 refilled
    expect(grant.granted).toBe(20);
    expect(bucket.tokens).toBe(0);
    ({ bucket } = exchangeOnBucket(bucket, inst, req({ want: 0 }), 60_000));
    expect(bucket.tokens).toBe(20);
  });

  it('shares tokens among the instances exchanging within activeMs, at least one while any is left', () => {
    const inst = new Map<string, number>();
    let { bucket } = exchangeOnBucket(undefined, inst, req({ instance: 'a', want: 0 }), 0);
    ({ bucket } = exchangeOnBucket(bucket, inst, req({ instance: 'b', want: 0 }), 1));
    let grant;
    ({ bucket, grant } = exchangeOnBucket(bucket, inst, req({ instance: 'c', want: 100 }), 2));
    expect(grant).toEqual({ granted: 6, instances: 3, remaining: 14 }); // floor(20 / 3)
    ({ bucket, grant } = exchangeOnBucket({ tokens: 1.5, at: 2 }, inst, req({ instance: 'c', want: 100 }), 2));
    expect(grant.granted).toBe(1);
    // a and b have not exchanged for more than activeMs: c alone shares the key
    ({ grant } = exchangeOnBucket({ tokens: 20, at: 1500 }, inst, req({ instance: 'c', want: 100 }), 1500));
    expect(grant).toEqual({ granted: 20, instances: 1, remaining: 0 });
  });

  it('takes back unused tokens (within the burst) and charges admissions made without a lease', () => {
    const inst = new Map<string, number>();
    const { bucket } = exchangeOnBucket({ tokens: 18, at: 0 }, inst, req({ giveBack: 5, want: 0 }), 0);
    expect(bucket.tokens).toBe(20);
    const owed = exchangeOnBucket({ tokens: 3, at: 0 }, inst, req({ owed: 5, want: 3 }), 0);
    expect(owed.grant.granted).toBe(0);
    expect(owed.bucket.tokens).toBe(-2);
  });
});

describe('FleetRateLimiter', () => {
  it('alone (no store): an exact token bucket', async () => {
    let t = 0;
    const limiter = new FleetRateLimiter({ state: newRateLimitState('solo'), now: () => t });
    let admitted = 0;
    for (; t < 3000; t++) for (let k = 0; k < 5; k++) if (limiter.admit('app', 20, 10).admitted) admitted++;
    // burst 10 + 20/s for 3 s (the last token may still be refilling)
    expect(admitted).toBeLessThanOrEqual(10 + 60);
    expect(admitted).toBeGreaterThanOrEqual(10 + 60 - 1);
  });

  it('three instances hammered far above the limit admit at most burst + rate x time (+ the first window), and use it', async () => {
    const rate = 100;
    const burst = 100;
    const ms = 5000;
    const run = await simulate({ instances: 3, rate, burst, ms, load: () => 2, latencyMs: (r) => 1 + r() * 20 });
    const limit = burst + (rate * ms) / 1000;
    const firstWindow = 3 * Math.ceil((rate * 100) / 1000); // initialAllowance per instance
    const admitted = total(run);
    expect(admitted).toBeLessThanOrEqual(limit + firstWindow);
    expect(admitted / limit).toBeLessThanOrEqual(1.1);
    // the budget is used, not wasted on refusals
    expect(admitted).toBeGreaterThanOrEqual(0.9 * limit);
    // any second: at most one burst plus one second of rate (after the first window)
    expect(maxInWindow(run, 1000, 0)).toBeLessThanOrEqual(burst + rate + firstWindow);
    expect(maxInWindow(run, 1000, 1000)).toBeLessThanOrEqual(burst + rate);
    // every instance gets a share
    for (const a of run.admitted) expect(a.length).toBeGreaterThan(0.2 * limit);
    expect(run.retryAfter.every((s) => s >= 1)).toBe(true);
  });

  it('holds with many instances and slow store answers', async () => {
    const rate = 50;
    const burst = 25;
    const ms = 4000;
    const run = await simulate({ instances: 8, rate, burst, ms, load: (i, t) => ((t + i) % 2 === 0 ? 1 : 0), latencyMs: (r) => 10 + r() * 80, seed: 11 });
    const limit = burst + (rate * ms) / 1000;
    const firstWindow = 8 * Math.ceil((rate * 100) / 1000);
    expect(total(run)).toBeLessThanOrEqual(limit + firstWindow);
    expect(total(run)).toBeGreaterThanOrEqual(0.8 * limit);
  });

  it('one busy instance among idle ones still gets the whole rate', async () => {
    const rate = 100;
    const burst = 100;
    const ms = 5000;
    // instance 0 is hammered; 1 and 2 see one request every 300 ms (they count as sharing the key)
    const run = await simulate({ instances: 3, rate, burst, ms, load: (i, t) => (i === 0 ? 2 : t % 300 === 0 ? 1 : 0) });
    const limit = burst + (rate * ms) / 1000;
    expect(total(run)).toBeLessThanOrEqual(limit + 30);
    expect(run.admitted[0]!.length).toBeGreaterThanOrEqual(0.8 * limit);
  });

  it('keeps serving while the store is down, each instance within its last known share, and charges the outage when it is back', async () => {
    const rate = 90;
    const burst = 90;
    const ms = 6000;
    const down = (t: number) => t >= 2000 && t < 4000;
    const run = await simulate({ instances: 3, rate, burst, ms, load: () => 1, down });
    const during = run.admitted.flat().filter((t) => t >= 2100 && t < 4000).length;
    // local buckets of rate/3 each: about the rate (plus leases the instances still held)
    expect(during).toBeGreaterThanOrEqual(0.8 * rate * 1.9);
    expect(during).toBeLessThanOrEqual(rate * 1.9 + burst);
    // the outage's admissions are charged when the store is back: the whole run stays within the bucket
    const limit = burst + (rate * ms) / 1000;
    const firstWindow = 3 * Math.ceil((rate * 100) / 1000);
    expect(total(run)).toBeLessThanOrEqual(limit + firstWindow);
    expect(total(run) / limit).toBeLessThanOrEqual(1.1);
  });

  it('a quiet key is not refused for want of a lease: sparse requests pass, and a burst passes on credit', async () => {
    // one request per instance every 1.5 s, then at t = 6 s a burst of 30 at instance 0
    const run = await simulate({ instances: 3, rate: 100, burst: 100, ms: 7000, load: (i, t) => (t % 1500 === 0 ? 1 : 0) + (i === 0 && t === 6000 ? 30 : 0) });
    expect(run.refused).toBeLessThanOrEqual(30 - 25);
    expect(run.admitted[0]!.filter((t) => t === 6000).length).toBeGreaterThanOrEqual(25);
  });

  it('a quiet key that turns busy everywhere at once stays within one burst plus the rate', async () => {
    const rate = 60;
    const burst = 60;
    // quiet for 3 s (each instance: one request a second), then all three hammered for 3 s
    const run = await simulate({
      instances: 3,
      rate,
      burst,
      ms: 6000,
      load: (i, t) => (t < 3000 ? (t % 1000 === i ? 1 : 0) : 2),
      latencyMs: (r) => 1 + r() * 10,
    });
    const surge = run.admitted.flat().filter((t) => t >= 3000).length;
    // the bucket was full at the surge: at most burst + 3 s of rate, plus credit read one interval late
    expect(surge).toBeLessThanOrEqual(1.1 * (burst + rate * 3));
    expect(surge).toBeGreaterThanOrEqual(0.8 * (burst + rate * 3));
  });

  it('sends at most one store command per key per 100 ms per instance', async () => {
    const ms = 3000;
    const run = await simulate({ instances: 3, rate: 1000, burst: 1000, ms, load: () => 5 });
    expect(run.store.exchanges).toBeLessThanOrEqual(3 * (ms / 100 + 1));
    expect(run.store.exchanges).toBeGreaterThanOrEqual(3 * (ms / 100) * 0.8);
  });

  it('never waits for the store: admit answers synchronously even when the store never answers', () => {
    const never: RateStore = { rateLease: () => new Promise(() => undefined) };
    const limiter = new FleetRateLimiter({ state: newRateLimitState('x'), store: never, now: () => 0 });
    const decisions = Array.from({ length: 20 }, () => limiter.admit('app', 10, 10));
    // the initial allowance (one interval of the rate), then refusals until the store answers
    expect(decisions.filter((d) => d.admitted)).toHaveLength(1);
    expect(decisions[1]).toEqual({ admitted: false, retryAfterSeconds: 1 });
  });
});
