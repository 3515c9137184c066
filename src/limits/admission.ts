/**
 * Admission of an authenticated request: the key's concurrency on this instance
 * (ConcurrencyLimiter) and its fleet-wide rate (FleetRateLimiter), in that order, each refusal a
 * 429 with Retry-After. Decided from memory only: it must never wait for Redis or Neo4j, and an
 * admitted request must get exactly one release, which frees its concurrency slot (a refused one
 * holds nothing).
 *
 * @example
 *   const admission = new Admission({ state: limitStateFor(anchor, 'gw-1'), limits: topology.limits, store: redis });
 *   const release = admission.admit(principal); // throws 429
 *   try { await next(); } finally { release(); }
 */
import type { KeyLimits, Limits } from '../config/schema.js';
import { ConcurrencyLimiter } from './concurrency.js';
import { effectiveLimits } from './effective.js';
import { FleetRateLimiter, newRateLimitState, rateLimited, type RateLimitState, type RateStore } from './rate-limit.js';

/** What admission remembers, as plain data: kept per process (Node) or per isolate (Workers). */
export interface LimitState {
  rate: RateLimitState;
  /** requests running per key */
  running: Map<string, number>;
}

export function newLimitState(instance: string): LimitState {
  return { rate: newRateLimitState(instance), running: new Map() };
}

const states = new WeakMap<object, LimitState>();

/**
 * The limit state kept as long as `anchor` lives: gateway objects built around the same anchor
 * (Workers: the per-isolate routing state) count together; a new anchor starts afresh. The
 * instance id gets a random suffix, so isolates that share a configured id still count apart.
 */
export function limitStateFor(anchor: object, instanceId: string): LimitState {
  let state = states.get(anchor);
  if (!state) {
    const suffix = crypto.getRandomValues(new Uint32Array(1))[0]!.toString(36);
    state = newLimitState(`${instanceId}/${suffix}`);
    states.set(anchor, state);
  }
  return state;
}

export interface AdmissionOptions {
  /** what is remembered across requests (see limitStateFor) */
  state: LimitState;
  /** the global limits (topology.limits); a key's own limits override them */
  limits: Limits;
  /** the fleet store for the rate limit; absent (or without rateLease): each instance limits alone */
  store?: Partial<RateStore> | undefined;
  /** runs the rate limit's background exchanges (Workers: ctx.waitUntil). @default fire and forget */
  schedule?: ((work: Promise<unknown>) => void) | undefined;
  /** clock in ms. @default Date.now */
  now?: (() => number) | undefined;
}

export class Admission {
  private readonly concurrency: ConcurrencyLimiter;
  private readonly rate: FleetRateLimiter;
  private readonly limits: Limits;

  constructor(options: AdmissionOptions) {
    this.limits = options.limits;
    this.concurrency = new ConcurrencyLimiter({ running: options.state.running });
    const store = options.store;
    this.rate = new FleetRateLimiter({
      state: options.state.rate,
      ...(store?.rateLease ? { store: { rateLease: store.rateLease.bind(store) } } : {}),
      ...(options.schedule ? { schedule: options.schedule } : {}),
      ...(options.now ? { now: options.now } : {}),
    });
  }

  /** Admits one request of the key, or throws 429 (with Retry-After). Returns its release. */
  admit(key: { id: string; limits: KeyLimits }): () => void {
    const limits = effectiveLimits(key.limits, this.limits);
    const release = this.concurrency.acquire(key.id, limits.maxConcurrent);
    if (limits.requestsPerSecond !== undefined) {
      const decision = this.rate.admit(key.id, limits.requestsPerSecond, limits.burst);
      if (!decision.admitted) {
        release();
        throw rateLimited(key.id, decision.retryAfterSeconds);
      }
    }
    return release;
  }
}
