/**
 * The retry policy of one shard statement (DESIGN §4), as Neo4j's drivers retry: which errors
 * are retried, how many attempts a statement gets, and how long to wait between them. The
 * executor (executor.ts) applies it.
 */
import { Codes } from '../errors/index.js';

export interface RetryPolicy {
  /**
   * Attempts in all (the first included, whatever failed before) after which a member failure
   * (DatabaseUnavailable) is no longer retried on another member (for reads, and for writes the
   * transport knows were not sent), nor a write refused by a member that is no longer the leader
   * (the first such retry is immediate, later ones wait the back-off).
   */
  maxFailoverAttempts: number;
  /** attempts in all (the first included) after which a retriable transient error is returned to the client */
  maxTransientAttempts: number;
  /** the wait before the first retry after a member failure or a transient error; doubles per retry */
  initialBackoffMs: number;
  /** the longest wait between two attempts */
  maxBackoffMs: number;
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = {
  maxFailoverAttempts: 8,
  maxTransientAttempts: 5,
  initialBackoffMs: 50,
  maxBackoffMs: 1000,
};

/** refused before anything was written: the member is no longer the writer (retried on the new writer, within the deadline) */
export const LEADER_SWITCH: ReadonlySet<string> = new Set<string>([
  Codes.NotALeader,
  Codes.ForbiddenOnReadOnlyDatabase,
  // what Neo4j 5 answers when a write reaches a database that has become read-only
  Codes.WriteOnReadOnlyAccessDatabase,
]);

/** the reader has not caught up with the client's bookmarks in time (the read moves to the writer) */
export const BOOKMARK_NOT_REACHED: ReadonlySet<string> = new Set<string>([Codes.BookmarkTimeout]);

/** transient errors after which Neo4j's drivers do not retry */
export const NOT_RETRIED_TRANSIENT: ReadonlySet<string> = new Set<string>([Codes.Terminated, Codes.LockClientStopped]);

/**
 * A transient error from Neo4j that rolled the transaction back and that is worth running again;
 * never one of the gateway's own (its deadline, a strict region pin, a drained shard, a limit).
 */
export function isRetriableTransient(code: string): boolean {
  return code.startsWith('Neo.TransientError.') && !code.startsWith('Neo.TransientError.Gateway.') && !NOT_RETRIED_TRANSIENT.has(code);
}

/** The policy with `overrides` applied over the defaults. */
export function retryPolicy(overrides: Partial<RetryPolicy> = {}): RetryPolicy {
  return { ...DEFAULT_RETRY_POLICY, ...overrides };
}

/** The wait after `backoff`: doubled, at most maxBackoffMs. */
export function nextBackoff(policy: RetryPolicy, backoff: number): number {
  return Math.min(backoff * 2, policy.maxBackoffMs);
}
