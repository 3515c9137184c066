/**
 * The limits that apply to one API key: its own overrides (`apiKeys[].limits`) where it has them,
 * else the global `limits`. Pure and allocation-light (called on every request); it must never
 * read a request, a clock or a store, and never invent a limit the configuration does not give
 * (a key without `requestsPerSecond` has no rate limit).
 */
import type { KeyLimits, Limits } from '../config/schema.js';

/** the default of `limits.maxResultBytes` (32 MiB), used by transports given no limit */
export const DEFAULT_MAX_RESULT_BYTES = 33_554_432;

export interface EffectiveLimits {
  /** largest result a response may carry (bytes of typed JSON) */
  maxResultBytes: number;
  /** most rows a response may carry */
  maxRows: number;
  /** requests the key may have running at once on one instance */
  maxConcurrent: number;
  /** explicit transactions the key may hold open at once on one instance */
  maxOpenTransactions: number;
  /** fleet-wide steady rate (requests per second); undefined: no rate limit */
  requestsPerSecond: number | undefined;
  /** requests the key may send at once above its steady rate (default: one second of the rate) */
  burst: number;
}

/** The limits of a key: its overrides, else the global values. */
export function effectiveLimits(key: KeyLimits | undefined, global: Limits): EffectiveLimits {
  const rps = key?.requestsPerSecond;
  return {
    maxResultBytes: key?.maxResultBytes ?? global.maxResultBytes,
    maxRows: key?.maxRows ?? global.maxRows,
    maxConcurrent: key?.maxConcurrent ?? global.maxConcurrentPerKey,
    maxOpenTransactions: key?.maxOpenTransactions ?? global.maxOpenTransactionsPerKey,
    requestsPerSecond: rps,
    burst: key?.burst ?? defaultBurst(rps),
  };
}

/** `burst` when a key gives none: one second of its rate, at least one request */
export function defaultBurst(requestsPerSecond: number | undefined): number {
  return requestsPerSecond === undefined ? 0 : Math.max(1, Math.ceil(requestsPerSecond));
}

/** `principal.limits.maxResultBytes ?? limits.maxResultBytes` */
export function maxResultBytesFor(principal: { limits: KeyLimits }, global: Limits): number {
  return principal.limits.maxResultBytes ?? global.maxResultBytes;
}

/** `principal.limits.maxRows ?? limits.maxRows` */
export function maxRowsFor(principal: { limits: KeyLimits }, global: Limits): number {
  return principal.limits.maxRows ?? global.maxRows;
}
