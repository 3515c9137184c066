/**
 * Requests each API key has running at once on this gateway instance (limits.maxConcurrentPerKey,
 * per key apiKeys[].limits.maxConcurrent). A request past its key's limit is refused at once
 * (429 with Retry-After), never queued. Plain in-memory counters, no clock and no I/O; it must
 * never leak a slot: every admitted request gets a release that frees exactly one slot, however
 * often it is called.
 */
import { Codes, GatewayError } from '../errors/index.js';

export interface ConcurrencyLimiterOptions {
  /**
   * the counters (requests running per key), plain data: pass one map to keep counting across
   * limiter objects (Workers build the gateway per request).
   * @default a new map
   */
  running?: Map<string, number>;
  /**
   * Retry-After (seconds) sent with a refusal: running requests end on their own time, so this
   * is only a hint.
   * @default 1
   */
  retryAfterSeconds?: number;
}

export class ConcurrencyLimiter {
  private readonly running: Map<string, number>;
  private readonly retryAfter: string;

  constructor(options: ConcurrencyLimiterOptions = {}) {
    this.running = options.running ?? new Map();
    this.retryAfter = String(options.retryAfterSeconds ?? 1);
  }

  /** requests of `key` running now */
  inFlight(key: string): number {
    return this.running.get(key) ?? 0;
  }

  /**
   * Takes a slot for one request of `key`, or throws 429 TooManyConcurrentRequests when `key`
   * already runs `max`. Returns the release (idempotent).
   */
  acquire(key: string, max: number): () => void {
    const n = this.running.get(key) ?? 0;
    if (n >= max) {
      throw new GatewayError(
        Codes.TooManyConcurrentRequests,
        `API key '${key}' already has ${n} requests running on this gateway instance, the most it may. Retry when one has finished.`,
        { headers: { 'retry-after': this.retryAfter } },
      );
    }
    this.running.set(key, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.running.get(key) ?? 1) - 1;
      if (left <= 0) this.running.delete(key);
      else this.running.set(key, left);
    };
  }
}
