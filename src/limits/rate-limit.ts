/**
 * Fleet-wide rate limit per API key (apiKeys[].limits.requestsPerSecond and burst): a token
 * bucket shared by every gateway instance, decided in memory on every request and reconciled with
 * the fleet store (Redis) in the background. It must never make a request wait for the store,
 * never send more than one store command per key per exchange interval from one instance, and
 * never stop serving when the store is down (it then limits locally).
 *
 * How the fleet stays within the limit: the bucket lives in the store (capacity `burst`, refilled
 * at `rate`). An instance admits a request by spending a token it LEASED from the bucket, so under
 * contention all instances together admit at most what the bucket gave out: burst + rate x time.
 * Leases are small: each exchange asks for about two intervals of the demand the instance has
 * seen, and the store grants at most the bucket's tokens divided by the instances sharing the key
 * (those that exchanged within `activeMs`), at least one while any is left, so a busy key's tokens
 * are shared out rather than taken by whoever asks first. Unused tokens above what is wanted go
 * back at the next exchange.
 *
 * When the key is not contended (the store granted all the instance asked for), the instance may
 * also admit on CREDIT: up to its share of the tokens the bucket still had (remaining /
 * instances), each charged to the bucket at the next exchange. So a quiet key's burst is not
 * refused for want of a lease; a contended key gets no credit, only leases.
 *
 * What is not exact, and by how much (the tolerance):
 * - before an instance's first exchange has answered it admits up to `initialAllowance` requests
 *   per key on its own (default one interval of the rate), charged at that exchange; so N fresh
 *   instances may admit N x initialAllowance above the bucket once;
 * - credit is read from the bucket up to one exchange interval late: instances that each spend
 *   their share at once may together pass the bucket by about what it held; the bucket then goes
 *   into debt (charged admissions), which later admissions pay back, so the fleet's total stays
 *   within burst + rate x time plus the debt not yet paid;
 * - while the store is down each instance runs a local bucket of its last known share
 *   (rate / instances, burst / instances, at least 1), starting from the tokens it still holds;
 *   what it admits meanwhile is charged to the fleet bucket when the store answers again (at most
 *   one burst share per instance). The fleet then stays within the bucket's bound as long as the
 *   instance count does not change during the outage; an instance that starts during an outage
 *   limits alone (the whole rate) until the store is back.
 *
 * The pure parts take their clock as a parameter; `MemoryRateStore` is the in-memory twin of the
 * store's atomic exchange (the Redis script in src/cache/redis-rate-lease.ts implements the same steps), for
 * tests and single-process use.
 */
import type { RateLeaseGrant, RateLeaseRequest } from '../cache/types.js';
import { Codes, GatewayError } from '../errors/index.js';

/** The one operation the limiter needs from the fleet store (Cache.rateLease). */
export interface RateStore {
  rateLease(key: string, request: RateLeaseRequest): Promise<RateLeaseGrant | null>;
}

export interface RateBucket {
  /** tokens in the bucket (negative: admissions without a lease still to be paid back) */
  tokens: number;
  /** when `tokens` was computed (ms) */
  at: number;
}

/**
 * One atomic exchange on a key's bucket, the steps the store performs (pure; `instances` maps
 * instance ids to the time of their last exchange and is updated in place):
 * refill to `now` (capped at burst), take back `giveBack` (capped at burst), charge `owed`,
 * register the instance, then grant min(want, tokens / sharing instances), at least 1 while a
 * whole token is left.
 */
export function exchangeOnBucket(
  bucket: RateBucket | undefined,
  instances: Map<string, number>,
  req: RateLeaseRequest,
  now: number,
): { bucket: RateBucket; grant: RateLeaseGrant } {
  let tokens = bucket ? Math.min(req.burst, bucket.tokens + (Math.max(0, now - bucket.at) * req.rate) / 1000) : req.burst;
  tokens = Math.min(req.burst, tokens + req.giveBack) - req.owed;
  instances.set(req.instance, now);
  for (const [id, at] of instances) if (at < now - req.activeMs) instances.delete(id);
  const sharing = Math.max(1, instances.size);
  const cap = tokens >= 1 ? Math.max(1, Math.floor(tokens / sharing)) : 0;
  const granted = Math.max(0, Math.min(Math.floor(req.want), cap));
  return { bucket: { tokens: tokens - granted, at: now }, grant: { granted, instances: sharing, remaining: Math.floor(tokens - granted) } };
}

/** In-memory fleet store (one process): the same exchange as Redis, for tests and single instances. */
export class MemoryRateStore implements RateStore {
  private readonly buckets = new Map<string, { bucket: RateBucket; instances: Map<string, number> }>();
  /** false: every exchange answers null, as an unreachable store does */
  up = true;
  /** exchanges answered (tests count store commands with it) */
  exchanges = 0;

  constructor(private readonly now: () => number = Date.now) {}

  rateLease(key: string, request: RateLeaseRequest): Promise<RateLeaseGrant | null> {
    if (!this.up) return Promise.resolve(null);
    this.exchanges++;
    const entry = this.buckets.get(key);
    const instances = entry?.instances ?? new Map<string, number>();
    const { bucket, grant } = exchangeOnBucket(entry?.bucket, instances, request, this.now());
    this.buckets.set(key, { bucket, instances });
    return Promise.resolve(grant);
  }
}

/**
 * What a limiter remembers, as plain data (no I/O object), so one state can outlive the limiter
 * objects built around it (Workers build the gateway per request and keep this per isolate).
 */
export interface RateLimitState {
  /** this instance's id, as counted among the instances sharing a key (differs per instance) */
  readonly instance: string;
  readonly keys: Map<string, KeyState>;
}

export function newRateLimitState(instance: string): RateLimitState {
  return { instance, keys: new Map() };
}

export interface FleetRateLimiterOptions {
  /** what the limiter remembers (per key buckets and leases; this instance's id) */
  state: RateLimitState;
  /** the fleet store; absent: every instance limits on its own (the whole rate each) */
  store?: RateStore | undefined;
  /** clock in ms. @default Date.now */
  now?: () => number;
  /** runs background exchanges (Workers: ctx.waitUntil). @default fire and forget */
  schedule?: (work: Promise<unknown>) => void;
  /** least time between two exchanges of one key from this instance (ms). @default 100 */
  exchangeIntervalMs?: number;
  /** an instance counts as sharing a key this long after its last exchange (ms). @default 1000 */
  activeMs?: number;
}

export type RateDecision = { admitted: true } | { admitted: false; retryAfterSeconds: number };

const ADMITTED: RateDecision = { admitted: true };

export interface KeyState {
  rate: number;
  burst: number;
  /** 'new': no exchange answered yet; 'fleet': leasing from the store; 'local': store down or absent */
  mode: 'new' | 'fleet' | 'local';
  /** leased tokens not yet spent (fleet), the initial allowance (new), the local bucket's tokens (local) */
  tokens: number;
  /** fleet: admissions still allowed on credit until the next exchange */
  credit: number;
  /** local: when `tokens` was last refilled */
  at: number;
  /** admitted without a lease, not yet charged to the fleet bucket */
  owed: number;
  /** requests seen (admitted or refused) since the last exchange began */
  demand: number;
  lastExchange: number;
  exchanging: boolean;
  /** instances sharing the key at the last answered exchange */
  instances: number;
}

export class FleetRateLimiter {
  private readonly keys: Map<string, KeyState>;
  private readonly instance: string;
  private readonly store: RateStore | undefined;
  private readonly now: () => number;
  private readonly schedule: (work: Promise<unknown>) => void;
  private readonly intervalMs: number;
  private readonly activeMs: number;

  constructor(options: FleetRateLimiterOptions) {
    this.keys = options.state.keys;
    this.instance = options.state.instance;
    this.store = options.store;
    this.now = options.now ?? Date.now;
    this.schedule = options.schedule ?? ((work) => void work.catch(() => undefined));
    this.intervalMs = options.exchangeIntervalMs ?? 100;
    this.activeMs = options.activeMs ?? 1000;
  }

  /** what one instance may admit on its own before its first exchange answers */
  initialAllowance(rate: number, burst: number): number {
    return Math.min(burst, Math.max(1, Math.ceil((rate * this.intervalMs) / 1000)));
  }

  /**
   * Admits or refuses one request of `key` now, from memory only; starts a background exchange
   * with the store when one is due.
   */
  admit(key: string, rate: number, burst: number): RateDecision {
    const now = this.now();
    let s = this.keys.get(key);
    if (!s || s.rate !== rate || s.burst !== burst) {
      s = {
        rate,
        burst,
        mode: this.store ? 'new' : 'local',
        tokens: this.store ? this.initialAllowance(rate, burst) : burst,
        credit: 0,
        at: now,
        owed: 0,
        demand: 0,
        lastExchange: Number.NEGATIVE_INFINITY,
        exchanging: false,
        instances: 1,
      };
      this.keys.set(key, s);
    }
    s.demand++;
    const decision = this.decide(s, now);
    if (this.store && !s.exchanging && now - s.lastExchange >= this.intervalMs) this.schedule(this.exchange(key, s, now));
    return decision;
  }

  private decide(s: KeyState, now: number): RateDecision {
    if (s.mode === 'local') {
      // a local bucket of this instance's share
      const rate = s.rate / s.instances;
      const cap = Math.max(1, s.burst / s.instances);
      s.tokens = Math.min(cap, s.tokens + ((now - s.at) * rate) / 1000);
      s.at = now;
      if (s.tokens >= 1) {
        s.tokens -= 1;
        // charged to the fleet bucket when the store answers again
        if (this.store) s.owed++;
        return ADMITTED;
      }
      return { admitted: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - s.tokens) / rate)) };
    }
    if (s.tokens >= 1) {
      s.tokens -= 1;
      if (s.mode === 'new') s.owed++;
      return ADMITTED;
    }
    if (s.credit >= 1) {
      s.credit -= 1;
      s.owed++;
      return ADMITTED;
    }
    // a token of this instance's share comes back in instances / rate seconds
    return { admitted: false, retryAfterSeconds: Math.max(1, Math.ceil(s.instances / s.rate)) };
  }

  private async exchange(key: string, s: KeyState, now: number): Promise<void> {
    s.exchanging = true;
    const elapsed = Number.isFinite(s.lastExchange) ? Math.max(this.intervalMs, now - s.lastExchange) : this.intervalMs;
    s.lastExchange = now;
    const demand = s.demand;
    s.demand = 0;
    // hold about two intervals of the demand seen (refused requests included), within the burst
    const want = Math.min(s.burst, Math.max(1, Math.ceil((2 * demand * this.intervalMs) / elapsed)));
    const held = s.mode === 'fleet' ? Math.floor(s.tokens) : 0;
    // a lease above what is wanted goes back
    const giveBack = Math.max(0, held - want);
    const ask = Math.max(0, want - held);
    // what was admitted without a lease; of an outage, at most one burst share per instance (a
    // longer one would otherwise leave the key in debt long after the store is back)
    const owed = s.mode === 'local' ? Math.min(s.owed, Math.max(1, Math.ceil(s.burst / s.instances))) : s.owed;
    if (s.mode === 'fleet') s.tokens -= giveBack;
    let grant: RateLeaseGrant | null;
    try {
      grant = await this.store!.rateLease(key, { rate: s.rate, burst: s.burst, want: ask, giveBack, owed, instance: this.instance, activeMs: this.activeMs });
    } catch {
      grant = null;
    } finally {
      s.exchanging = false;
    }
    if (this.keys.get(key) !== s) return; // the key's limits changed meanwhile
    const at = this.now();
    if (grant === null) {
      if (s.mode !== 'local') {
        // the store is down: a local bucket of the last known share, holding what the instance
        // still had (its lease, or what is left of its initial allowance)
        s.mode = 'local';
        s.credit = 0;
        s.tokens = Math.min(Math.max(1, s.burst / s.instances), Math.max(0, Math.floor(s.tokens)));
        s.at = at;
      }
      return;
    }
    // charged now; anything past the cap is forgiven
    s.owed = s.mode === 'local' ? 0 : s.owed - owed;
    s.instances = grant.instances;
    if (s.mode !== 'fleet') {
      // leases only from now on; what is left of a local bucket is not a lease
      s.mode = 'fleet';
      s.tokens = 0;
    }
    s.tokens += grant.granted;
    // credit only while the key is not contended: everything asked for was granted
    s.credit = grant.granted >= ask ? Math.max(0, Math.min(Math.floor(grant.remaining / grant.instances), Math.ceil(s.burst / grant.instances))) : 0;
  }
}

/** the 429 a refused request answers */
export function rateLimited(key: string, retryAfterSeconds: number): GatewayError {
  return new GatewayError(Codes.RateLimited, `API key '${key}' sent more requests than its rate limit allows. Retry after ${retryAfterSeconds} s.`, {
    headers: { 'retry-after': String(retryAfterSeconds) },
  });
}
