/**
 * The budget of one statement's result: how many bytes of typed JSON (Neo4j's
 * `application/vnd.neo4j.query` encoding, the form values cross the Transport port in) it may
 * reach, and the request's deadline. Transports charge it while they read or convert rows and
 * stop the statement the moment it is spent. It must never let a result through past its limit
 * (no silent cut: the caller gets ResultTooLarge), and never do I/O of its own.
 */
import { Codes, GatewayError } from '../errors/index.js';

export interface ResultBudgetOptions {
  /** most bytes the result may reach */
  maxBytes: number;
  /** epoch ms after which the statement is abandoned (DeadlineExceeded); absent: none */
  deadline?: number | undefined;
  /** clock (default Date.now) */
  now?: () => number;
}

export class ResultBudget {
  readonly maxBytes: number;
  readonly deadline: number | undefined;
  readonly now: () => number;
  private used = 0;

  constructor(options: ResultBudgetOptions) {
    this.maxBytes = options.maxBytes;
    this.deadline = options.deadline;
    this.now = options.now ?? Date.now;
  }

  /** bytes still allowed */
  get remaining(): number {
    return this.maxBytes - this.used;
  }

  /** bytes charged so far */
  get spent(): number {
    return this.used;
  }

  /** Adds `bytes` to the result; false once the result is past the limit (the caller stops). */
  charge(bytes: number): boolean {
    this.used += bytes;
    return this.used <= this.maxBytes;
  }

  /** true once the request deadline has passed */
  expired(): boolean {
    return this.deadline !== undefined && this.now() > this.deadline;
  }

  /** the error a result past the limit fails with */
  tooLarge(): GatewayError {
    return resultTooLarge(this.maxBytes);
  }
}

/** `whose`: what sets the limit, as the message names it (default: the key's result limit) */
export function resultTooLarge(maxBytes: number, whose = 'the most this gateway returns to this key', cause?: unknown): GatewayError {
  return new GatewayError(
    Codes.ResultTooLarge,
    `The result is larger than ${maxBytes} bytes, ${whose}. The statement was stopped (a write it made may or may not have been committed). Return fewer or smaller values, or page with SKIP/LIMIT.`,
    cause === undefined ? {} : { cause },
  );
}

export function deadlineExceeded(): GatewayError {
  return new GatewayError(Codes.DeadlineExceeded, 'The request deadline passed before the result was read.');
}
