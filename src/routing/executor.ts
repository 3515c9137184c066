/**
 * Runs one statement on one shard: route, run, and retry the way the Neo4j drivers do (DESIGN §4).
 *
 * - A read that fails on a member (connection, transient error) moves to another member.
 * - A write is retried only when it provably did not run: NotALeader / ForbiddenOnReadOnlyDatabase
 *   (refused before execution; the table is refreshed), a connection that could not be opened,
 *   or a transient error that rolled the transaction back.
 * - Everything happens within the request's deadline.
 *
 * Which errors are retried, how often and after which wait: retry-policy.ts. A streamed statement
 * (`open`) follows the same policy until its first row is there, and is never retried after.
 */
import { Codes, GatewayError } from '../errors/index.js';
import { inSpan, SpanKind } from '../telemetry/trace.js';
import type { AccessMode, MemberRef, RowStream, RunRequest, RunResult, Transport } from '../transport/types.js';
import { BOOKMARK_NOT_REACHED, LEADER_SWITCH, isRetriableTransient, nextBackoff, retryPolicy, type RetryPolicy } from './retry-policy.js';
import type { Router } from './router.js';
import type { Route } from './types.js';

export interface ShardRun {
  shard: string;
  statement: string;
  parameters: RunRequest['parameters'];
  accessMode: AccessMode;
  bookmarks: string[];
  region: string;
  pinned: boolean;
  maxRows: number;
  /** bytes of typed JSON the result may reach (absent: the transport's default) */
  maxResultBytes?: number;
  timeoutMs?: number;
  impersonatedUser?: string;
  /** transaction metadata for Neo4j (request id, trace, key) */
  metadata?: Record<string, string>;
  deadline: number;
}

export interface ShardResult {
  result: RunResult;
  route: Route;
  attempts: number;
}

/** a statement streaming from a member (ShardExecutor.open); the member counts it in flight until it ends or is cancelled */
export interface ShardStream {
  stream: RowStream;
  route: Route;
  attempts: number;
}

/** what the executor needs of the router */
export type ExecutorRouting = Pick<Router, 'route' | 'acquire' | 'markHealthy' | 'markFailed' | 'invalidate'>;

export interface ShardExecutorOptions {
  /** retry limits and back-off (absent fields: DEFAULT_RETRY_POLICY) */
  policy?: Partial<RetryPolicy>;
  /** waits between attempts (tests: a fake) */
  sleep?: (ms: number) => Promise<void>;
}

export class ShardExecutor {
  private readonly policy: RetryPolicy;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly routing: ExecutorRouting,
    private readonly transport: Pick<Transport, 'run' | 'stream'>,
    private readonly topologyDatabase: (shard: string) => { cluster: string; database: string },
    private readonly now: () => number = Date.now,
    options: ShardExecutorOptions = {},
  ) {
    this.policy = retryPolicy(options.policy);
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** Runs one statement on one shard, in a span of its own (shard, member, role, region, attempts). */
  run(req: ShardRun): Promise<ShardResult> {
    return this.inShardSpan(req, async () => {
      const {
        value: result,
        route,
        attempts,
        release,
      } = await this.attempt(
        req,
        (member, runReq) => this.transport.run(member, runReq),
        (r) => r.error,
      );
      release();
      return { result, route, attempts };
    });
  }

  /** true when the transport can hand rows over as they arrive (`open`) */
  get canStream(): boolean {
    return typeof this.transport.stream === 'function';
  }

  /**
   * Opens one statement on one shard as a stream of rows: routed and retried like `run` until
   * the first row (or the end) is there; a stream that ends before its first row with an error
   * `run` would retry is retried too (nothing reached the client yet). The member counts it in
   * flight until the stream ends or is cancelled.
   */
  open(req: Omit<ShardRun, 'maxRows' | 'maxResultBytes'>): Promise<ShardStream> {
    const stream = this.transport.stream?.bind(this.transport);
    if (!stream) throw new GatewayError(Codes.Internal, 'This transport cannot stream rows.');
    return this.inShardSpan(req, async () => {
      const opened = await this.attempt(
        { ...req, maxRows: 0 },
        async (member, { maxRows: _rows, maxResultBytes: _bytes, ...runReq }) => {
          const s = await stream(member, runReq);
          return { s, first: await s.next() };
        },
        ({ s, first }) => (first === undefined ? s.end().error : undefined),
      );
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        opened.release();
      };
      const inner = opened.value.s;
      let first = opened.value.first;
      const wrapped: RowStream = {
        fields: inner.fields,
        next: async () => {
          if (first !== undefined) {
            const row = first;
            first = undefined;
            return row;
          }
          const row = await inner.next();
          if (row === undefined) release();
          return row;
        },
        end: () => inner.end(),
        cancel: () => inner.cancel().finally(release),
      };
      return { stream: wrapped, route: opened.route, attempts: opened.attempts };
    });
  }

  private inShardSpan<T extends { route: Route; attempts: number }>(req: Pick<ShardRun, 'shard' | 'accessMode'>, fn: () => Promise<T>): Promise<T> {
    return inSpan(`shard ${req.shard}`, SpanKind.CLIENT, { 'gateway.shard': req.shard, 'gateway.access_mode': req.accessMode }, async (span) => {
      const out = await fn();
      span.setAttributes({
        'gateway.member': out.route.member.address,
        'gateway.role': out.route.role,
        'gateway.region': out.route.region,
        'gateway.attempts': out.attempts,
      });
      return out;
    });
  }

  /**
   * Routes and runs `call` under the retry policy. An answer whose `failure` is a leader switch
   * or a retriable transient error counts as a failure (the transaction was rolled back and
   * nothing reached the client). The member stays counted in flight until the returned `release`
   * is called.
   */
  private async attempt<T>(
    req: ShardRun,
    call: (member: MemberRef, runReq: RunRequest) => Promise<T>,
    failure: (value: T) => { code: string; message: string } | undefined,
  ): Promise<{ value: T; route: Route; attempts: number; release: () => void }> {
    const { cluster, database } = this.topologyDatabase(req.shard);
    const exclude = new Set<string>();
    let attempts = 0;
    let lastError: GatewayError | undefined;
    let backoff = this.policy.initialBackoffMs;
    // after a bookmark timeout on a reader, the writer (which has every write) serves the read
    let onWriter = false;
    let leaderSwitches = 0;
    while (true) {
      const remaining = req.deadline - this.now();
      if (remaining <= 0) {
        throw lastError ?? new GatewayError(Codes.DeadlineExceeded, 'The request deadline passed before the statement could run.');
      }
      attempts++;
      const route = await this.routing.route({ shard: req.shard, mode: onWriter ? 'WRITE' : req.accessMode, region: req.region, pinned: req.pinned, exclude });
      const release = this.routing.acquire(cluster, route.member.address);
      let handedOver = false;
      try {
        const runReq: RunRequest = {
          database,
          statement: req.statement,
          parameters: req.parameters,
          accessMode: req.accessMode,
          bookmarks: req.bookmarks,
          maxRows: req.maxRows,
          deadline: req.deadline,
          ...(req.maxResultBytes !== undefined ? { maxResultBytes: req.maxResultBytes } : {}),
          ...(req.timeoutMs !== undefined ? { timeoutMs: req.timeoutMs } : {}),
          ...(req.impersonatedUser !== undefined ? { impersonatedUser: req.impersonatedUser } : {}),
          ...(req.metadata !== undefined ? { metadata: req.metadata } : {}),
        };
        const value = await call(route.member, runReq);
        this.routing.markHealthy(cluster, route.member.address);
        const error = failure(value);
        if (error && (LEADER_SWITCH.has(error.code) || isRetriableTransient(error.code))) {
          // failed mid-stream in a way that rolled the transaction back: handled like a failure
          throw new GatewayError(error.code, error.message);
        }
        handedOver = true;
        return { value, route, attempts, release };
      } catch (e) {
        const err = e instanceof GatewayError ? e : new GatewayError(Codes.Internal, 'The gateway failed to run the statement.', { cause: e });
        lastError = err;
        if (req.accessMode === 'READ' && !onWriter && BOOKMARK_NOT_REACHED.has(err.code)) {
          onWriter = true;
          continue;
        }
        if (LEADER_SWITCH.has(err.code)) {
          // refused before execution: the table is stale everywhere
          await this.routing.invalidate(cluster, database);
          if (req.accessMode === 'WRITE' && attempts < this.policy.maxFailoverAttempts) {
            exclude.add(route.member.address);
            // the new leader is usually named by the next table at once; an election still
            // running is waited for with the back-off, not hammered
            if (leaderSwitches++ > 0) {
              await this.sleep(Math.min(backoff, Math.max(0, req.deadline - this.now())));
              backoff = nextBackoff(this.policy, backoff);
            }
            continue;
          }
          throw err;
        }
        if (err.code === Codes.DatabaseUnavailable) {
          this.routing.markFailed(cluster, route.member.address);
          await this.routing.invalidate(cluster, database);
          if ((req.accessMode === 'READ' || err.notSent) && attempts < this.policy.maxFailoverAttempts) {
            exclude.add(route.member.address);
            await this.sleep(Math.min(backoff, Math.max(0, req.deadline - this.now())));
            backoff = nextBackoff(this.policy, backoff);
            continue;
          }
          throw err;
        }
        if (isRetriableTransient(err.code) && attempts < this.policy.maxTransientAttempts) {
          // a transient error rolled the transaction back: it is safe to run again
          await this.sleep(Math.min(backoff, Math.max(0, req.deadline - this.now())));
          backoff = nextBackoff(this.policy, backoff);
          continue;
        }
        throw err;
      } finally {
        if (!handedOver) release();
      }
    }
  }
}
