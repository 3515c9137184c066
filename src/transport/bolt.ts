/**
 * Bolt transport (neo4j-driver): one direct `bolt://` driver, i.e. one connection pool, per
 * cluster member for the life of the process. The gateway picks the member; the driver never
 * routes on its own.
 */
import { GATEWAY_AGENT } from '../config/version.js';
import neo4j, { isNode, isPath, isRelationship, type Driver, type Session, type Record as NeoRecord, type Result, type ResultSummary, type Transaction, type Config } from 'neo4j-driver';
import { Codes, GatewayError, isNeo4jCode } from '../errors/index.js';
import { DEFAULT_MAX_RESULT_BYTES } from '../limits/effective.js';
import { limitBoltMessages } from './bolt-wire-guard.js';
import { ResultBudget, deadlineExceeded } from '../limits/result-budget.js';
import { fromDriver, toDriver } from './bolt-values.js';
import type {
  BeginRequest,
  StatementBounds,
  Counters,
  MemberRef,
  Notification,
  RoutingTableData,
  RunRequest,
  RunResult,
  TransactionHandle,
  Transport,
} from './types.js';
import type { TypedValue } from '../values/typed.js';

/** the driver's transaction config of a request: its timeout and metadata, when it has them */
function txConfigOf(req: { timeoutMs?: number; metadata?: Record<string, string> }): { timeout?: number; metadata?: Record<string, string> } | undefined {
  if (!req.timeoutMs && !req.metadata) return undefined;
  return { ...(req.timeoutMs ? { timeout: req.timeoutMs } : {}), ...(req.metadata ? { metadata: req.metadata } : {}) };
}

export interface BoltTransportOptions {
  /** cluster name -> credentials */
  credentials: (cluster: string) => { user: string; password: string };
  /** neo4j:// URL scheme suffix: "" | "+s" | "+ssc" per cluster (TLS) */
  scheme?: (cluster: string) => string;
  maxPoolSize?: number;
  connectionTimeoutMs?: number;
  /** result size limit of a request that names none (bytes of typed JSON; default 32 MiB) */
  maxResultBytes?: number;
  /** the largest single Bolt message accepted (default: maxResultBytes); at least the largest per-key result budget */
  maxMessageBytes?: number;
  /** extra driver config (e.g. a WebSocket channel on Workers) */
  driverConfig?: Partial<Config>;
}

/** the counters Neo4j's Query API reports, in its order */
export const COUNTER_KEYS = [
  'containsUpdates',
  'nodesCreated',
  'nodesDeleted',
  'propertiesSet',
  'relationshipsCreated',
  'relationshipsDeleted',
  'labelsAdded',
  'labelsRemoved',
  'indexesAdded',
  'indexesRemoved',
  'constraintsAdded',
  'constraintsRemoved',
  'containsSystemUpdates',
  'systemUpdates',
] as const;

export function countersOf(summary: ResultSummary): Counters {
  const c = summary.counters;
  const u = c.updates();
  return {
    containsUpdates: c.containsUpdates(),
    nodesCreated: u.nodesCreated,
    nodesDeleted: u.nodesDeleted,
    propertiesSet: u.propertiesSet,
    relationshipsCreated: u.relationshipsCreated,
    relationshipsDeleted: u.relationshipsDeleted,
    labelsAdded: u.labelsAdded,
    labelsRemoved: u.labelsRemoved,
    indexesAdded: u.indexesAdded,
    indexesRemoved: u.indexesRemoved,
    constraintsAdded: u.constraintsAdded,
    constraintsRemoved: u.constraintsRemoved,
    containsSystemUpdates: c.containsSystemUpdates(),
    systemUpdates: c.systemUpdates(),
  } satisfies Record<(typeof COUNTER_KEYS)[number], number | boolean>;
}

function notificationsOf(summary: ResultSummary): Notification[] {
  // field order as Neo4j's Query API writes them
  return summary.notifications.map((n) => ({
    code: n.code,
    description: n.description,
    severity: n.severityLevel,
    title: n.title,
    position: n.position && 'offset' in n.position ? { offset: n.position.offset ?? 0, line: n.position.line ?? 0, column: n.position.column ?? 0 } : null,
    category: n.category,
  }));
}

function paramsToDriver(params: Record<string, TypedValue>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) out[k] = toDriver(v);
  return out;
}

/** Maps a driver error to a GatewayError, keeping Neo4j's codes and messages. */
export function mapDriverError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  const e = err as { code?: unknown; message?: unknown; retriable?: unknown };
  const code = e?.code;
  const message = typeof e?.message === 'string' ? e.message : 'Unknown error';
  if (isNeo4jCode(code)) return new GatewayError(code, message, { cause: err });
  if (code === 'ServiceUnavailable' || code === 'SessionExpired') {
    // the driver reports a refused or timed-out connect the same way as a connection lost
    // mid-statement; only the former proves the statement never reached the server
    const notSent = /Failed to connect|ECONNREFUSED|connect ETIMEDOUT|Connection refused/i.test(message);
    return new GatewayError(Codes.DatabaseUnavailable, 'The database is unavailable: no connection to the cluster member could be made.', { cause: err, retryable: true, notSent });
  }
  if (code === 'ProtocolError') {
    return new GatewayError(Codes.DatabaseUnavailable, 'The cluster member broke the Bolt protocol.', { cause: err, status: 502, retryable: false });
  }
  return new GatewayError(Codes.Internal, 'The gateway failed to run the statement.', { cause: err });
}

/**
 * Bytes the typed JSON encoding of a driver value takes (what bolt-values' fromDriver makes and
 * the Query API sends), estimated without converting it, so a huge value is refused before any
 * conversion work. It walks the value iteratively (no recursion on deep nesting) and stops as
 * soon as the estimate passes `limit` (the answer is then some number above `limit`); every
 * 8192 values it checks the clock and throws DeadlineExceeded past `deadline`. Strings count one
 * byte per UTF-16 unit (escapes and multi-byte characters are not priced); temporal values and
 * points count a fixed 56 bytes.
 */
export function typedJsonSize(value: unknown, limit: number, deadline?: number, now: () => number = Date.now): number {
  // frames of the lists and maps being walked: items (list) or keys of obj (map)
  const frames: { items: readonly unknown[] | undefined; obj: Record<string, unknown> | undefined; keys: readonly string[] | undefined; i: number }[] = [];
  let size = 0;
  let steps = 0;
  let next: unknown = value;
  for (;;) {
    // price `next`: scalars whole, containers their frame (their items follow)
    const v = next;
    if (v === null || v === undefined) size += 30;
    else {
      switch (typeof v) {
        case 'string':
          size += 30 + v.length;
          break;
        case 'boolean':
          size += 33 + (v ? 4 : 5);
          break;
        case 'number':
          size += 29 + String(v).length;
          break;
        case 'bigint':
          size += 31 + String(v).length;
          break;
        case 'object': {
          if (neo4j.isInt(v)) {
            const n = v as unknown as { high: number; low: number };
            size += 31 + (n.high === 0 && n.low >= 0 ? String(n.low).length : 20);
          } else if (Array.isArray(v)) {
            size += 28 + Math.max(0, v.length - 1);
            frames.push({ items: v, obj: undefined, keys: undefined, i: 0 });
          } else if (ArrayBuffer.isView(v)) {
            size += 30 + Math.ceil(v.byteLength / 3) * 4;
          } else if (isNode(v)) {
            size += 75 + v.elementId.length;
            for (const l of v.labels) size += l.length + 3;
            const keys = Object.keys(v.properties);
            size += 2 + keys.length;
            frames.push({ items: undefined, obj: v.properties as Record<string, unknown>, keys, i: 0 });
          } else if (isRelationship(v)) {
            size += 140 + v.elementId.length + v.startNodeElementId.length + v.endNodeElementId.length + v.type.length;
            const keys = Object.keys(v.properties);
            size += 2 + keys.length;
            frames.push({ items: undefined, obj: v.properties as Record<string, unknown>, keys, i: 0 });
          } else if (isPath(v)) {
            const items: unknown[] = [v.start];
            for (const seg of v.segments) items.push(seg.relationship, seg.end);
            size += 28 + items.length - 1;
            frames.push({ items, obj: undefined, keys: undefined, i: 0 });
          } else {
            const proto = Object.getPrototypeOf(v) as unknown;
            if (proto === Object.prototype || proto === null) {
              const keys = Object.keys(v);
              size += 29 + keys.length;
              frames.push({ items: undefined, obj: v as Record<string, unknown>, keys, i: 0 });
            } else {
              // temporal values, points, anything else the driver makes: a short string form
              size += 56;
            }
          }
          break;
        }
        default:
          size += 30;
      }
    }
    if (size > limit) return size;
    // the next value: the first unvisited item of the innermost open container
    let found = false;
    while (frames.length > 0) {
      const top = frames[frames.length - 1]!;
      if (top.items !== undefined) {
        if (top.i < top.items.length) {
          next = top.items[top.i++];
          found = true;
          break;
        }
      } else if (top.i < top.keys!.length) {
        const key = top.keys![top.i++]!;
        size += key.length + 3;
        next = top.obj![key];
        found = true;
        break;
      }
      frames.pop();
    }
    if (!found) return size;
    if ((++steps & 8191) === 0 && deadline !== undefined && now() > deadline) throw deadlineExceeded();
  }
}

/**
 * Stops a result early the way the driver's own async iterator does when a loop breaks: the
 * stream is cancelled and the driver sends DISCARD at the next batch boundary (at most one more
 * batch of records arrives; the statement stops on Neo4j, an auto-commit one commits). Not a
 * RESET: closing a session under a streaming result races the driver's next PULL/DISCARD, which
 * then fails on Neo4j and poisons the pooled connection for whichever session takes it next
 * (observed with neo4j-driver 6.3: "DiscardMessage cannot be handled by a session in the READY
 * state"). `_cancel` is the driver's (underscore) method for exactly this; absent, nothing happens
 * and the statement runs to its end or to Neo4j's transaction timeout.
 */
function cancelStream(result: Result): void {
  (result as unknown as { _cancel?: () => void })._cancel?.();
}

/** resolves once a cancelled result has settled on the connection, or after `ms` at most */
function settled(result: Result, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    result.summary().then(
      () => undefined,
      () => undefined,
    ),
    new Promise<void>((r) => {
      timer = setTimeout(r, ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

interface Collection {
  done: Promise<{ fields: string[]; values: TypedValue[][]; summary: ResultSummary | undefined; error?: { code: string; message: string } }>;
  result: Result;
  /** true once a record has arrived (the stream is under way: cancelling stops it) */
  readonly streaming: boolean;
  /** true once the collection was stopped (budget, deadline or abort): the stream was cancelled */
  readonly stopped: boolean;
  /** fails the collection now with `err` and cancels the stream */
  abort(err: GatewayError): void;
}

/**
 * Runs a statement and collects its rows as typed values. Callback subscription (not the async
 * iterator, which costs a promise per record).
 *
 * Bounds, checked on every row before it is converted: the request deadline (DeadlineExceeded)
 * and the result budget (ResultTooLarge; each row's size is estimated by typedJsonSize, which
 * stops as soon as the budget is passed, so a huge row is never converted). Either one fails the
 * collection at once and cancels the stream (cancelStream). Rows past `maxRows` are not kept; the
 * result is still consumed to its end, so an auto-commit write commits, and the caller gets
 * ResultTooLarge.
 */
function collect(
  session: Session | Transaction,
  statement: string,
  params: Record<string, unknown>,
  maxRows: number,
  budget: ResultBudget,
  txConfig?: { timeout?: number; metadata?: Record<string, string> },
): Collection {
  const result = 'lastBookmarks' in session ? (session as Session).run(statement, params, txConfig) : (session as Transaction).run(statement, params);
  let stopped = false;
  let streaming = false;
  let fail: (err: GatewayError) => void = () => undefined;
  const done: Collection['done'] = new Promise((resolve, reject) => {
    let fields: string[] | undefined;
    const values: TypedValue[][] = [];
    let overflow = false;
    fail = (err: GatewayError) => {
      if (stopped) return;
      stopped = true;
      reject(err);
      cancelStream(result);
    };
    result.subscribe({
      onKeys: (keys) => {
        fields = keys as string[];
      },
      onNext: (record: NeoRecord) => {
        streaming = true;
        if (stopped) return;
        if (values.length >= maxRows) {
          overflow = true;
          return;
        }
        try {
          if (budget.expired()) throw deadlineExceeded();
          // "[...]" around the row and "," between values, then each value, priced before it is converted
          let bytes = 1 + record.length;
          for (let i = 0; i < record.length && bytes <= budget.remaining; i++) {
            bytes += typedJsonSize(record.get(i), budget.remaining - bytes, budget.deadline, budget.now);
          }
          if (!budget.charge(bytes)) throw budget.tooLarge();
          const row: TypedValue[] = new Array(record.length);
          for (let i = 0; i < record.length; i++) row[i] = fromDriver(record.get(i));
          values.push(row);
        } catch (err) {
          fail(err instanceof GatewayError ? err : mapDriverError(err));
        }
      },
      onCompleted: (summary: ResultSummary) => {
        if (stopped) return;
        if (overflow) {
          reject(
            new GatewayError(
              Codes.ResultTooLarge,
              `The result has more than ${maxRows} rows, the most this gateway returns. Add a LIMIT or page with SKIP/LIMIT. (The statement did run: any writes it made were committed.)`,
            ),
          );
          return;
        }
        resolve({ fields: fields ?? [], values, summary });
      },
      onError: (err: Error) => {
        if (stopped) return;
        // before the keys arrived, the statement never started (syntax, semantics, access mode):
        // a plain error. After, it failed while streaming: the rows so far and the error, as
        // Neo4j's Query API answers.
        // the gateway's own refusals (a row past the wire cap) are the request's answer, never a partial result
        const code = (err as { code?: unknown })?.code;
        if (fields === undefined || !isNeo4jCode(code) || code.startsWith('Neo.ClientError.Gateway.')) {
          reject(mapDriverError(err));
          return;
        }
        const mapped = mapDriverError(err);
        resolve({ fields, values, summary: undefined, error: { code: mapped.code, message: mapped.message } });
      },
    });
  });
  return {
    done,
    result,
    get streaming() {
      return streaming;
    },
    get stopped() {
      return stopped;
    },
    abort: (err) => fail(err),
  };
}

/** how long a cancelled result may take to settle before its session is closed anyway (ms) */
const CANCEL_SETTLE_MS = 2000;

const EMPTY_COUNTERS: Counters = {};

export class BoltTransport implements Transport {
  private readonly drivers = new Map<string, Driver>();

  /** connection pools open: one per cluster member the process has talked to */
  get pools(): number {
    return this.drivers.size;
  }
  private readonly options: BoltTransportOptions;
  private readonly defaultMaxResultBytes: number;
  private closed = false;

  constructor(options: BoltTransportOptions) {
    this.options = options;
    this.defaultMaxResultBytes = options.maxResultBytes ?? DEFAULT_MAX_RESULT_BYTES;
    // one row cannot be larger than the largest result any request may receive
    limitBoltMessages(options.maxMessageBytes ?? this.defaultMaxResultBytes);
  }

  /** one driver (pool) per cluster member, created on first use, kept for the process */
  driverFor(cluster: string, address: string): Driver {
    const key = `${cluster}/${address}`;
    let driver = this.drivers.get(key);
    if (!driver) {
      if (this.closed) throw new GatewayError(Codes.DatabaseUnavailable, 'The gateway is shutting down.');
      const { user, password } = this.options.credentials(cluster);
      const scheme = `bolt${this.options.scheme?.(cluster) ?? ''}`;
      driver = neo4j.driver(`${scheme}://${address}`, neo4j.auth.basic(user, password), {
        maxConnectionPoolSize: this.options.maxPoolSize ?? 100,
        connectionTimeout: this.options.connectionTimeoutMs ?? 5000,
        connectionAcquisitionTimeout: 10000,
        maxTransactionRetryTime: 0,
        disableLosslessIntegers: false,
        userAgent: GATEWAY_AGENT,
        ...this.options.driverConfig,
      });
      this.drivers.set(key, driver);
    }
    return driver;
  }

  async run(member: MemberRef, req: RunRequest): Promise<RunResult> {
    const params = paramsToDriver(req.parameters);
    const session = this.driverFor(member.cluster, member.address).session({
      database: req.database,
      defaultAccessMode: req.accessMode === 'READ' ? neo4j.session.READ : neo4j.session.WRITE,
      bookmarks: req.bookmarks,
      ...(req.impersonatedUser ? { impersonatedUser: req.impersonatedUser } : {}),
    });
    const budget = new ResultBudget({ maxBytes: req.maxResultBytes ?? this.defaultMaxResultBytes, deadline: req.deadline });
    const run = collect(session, req.statement, params, req.maxRows, budget, txConfigOf(req));
    // one plain timer per statement (cheaper than an AbortSignal): past the deadline a streaming
    // result is cancelled; a statement still computing (no record yet) is stopped by closing the
    // session (a RESET, the only way to interrupt it)
    let expired = false;
    const timer = req.deadline === undefined ? undefined : setTimeout(() => {
      expired = true;
      if (run.streaming) run.abort(deadlineExceeded());
      else void session.close();
    }, Math.max(0, req.deadline - Date.now()));
    try {
      const { fields, values, summary, error } = await run.done;
      // closing the session at the deadline terminates the statement; Neo4j then reports it as
      // terminated "by the user", which it was not: it is the gateway's deadline
      if (expired) throw new GatewayError(Codes.DeadlineExceeded, 'The request deadline passed before the statement finished.');
      return {
        fields,
        values,
        bookmarks: error ? [] : session.lastBookmarks(),
        counters: summary ? countersOf(summary) : EMPTY_COUNTERS,
        notifications: summary ? notificationsOf(summary) : [],
        ...(error ? { error } : {}),
      };
    } catch (err) {
      if (expired) throw err instanceof GatewayError && err.code === Codes.DeadlineExceeded ? err : new GatewayError(Codes.DeadlineExceeded, 'The request deadline passed before the statement finished.', { cause: err });
      throw mapDriverError(err);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      // a stopped result is still draining (one batch at most): the answer goes out now, the
      // connection goes back to the pool once the stream has settled
      if (run.stopped) void settled(run.result, CANCEL_SETTLE_MS).then(() => session.close().catch(() => undefined));
      else await session.close().catch(() => undefined);
    }
  }

  async fetchRoutingTable(cluster: string, router: string, database: string, context: Record<string, string>): Promise<RoutingTableData> {
    const session = this.driverFor(cluster, router).session({ database: 'system', defaultAccessMode: neo4j.session.READ });
    try {
      const res = await session.run('CALL dbms.routing.getRoutingTable($context, $database)', { context, database });
      const rec = res.records[0];
      if (!rec) throw new GatewayError(Codes.DatabaseUnavailable, `Router ${router} returned no routing table.`);
      const ttl = rec.get('ttl') as unknown;
      const servers = rec.get('servers') as { addresses: string[]; role: string }[];
      const pick = (role: string) => servers.filter((s) => s.role === role).flatMap((s) => s.addresses);
      return {
        database,
        ttlSeconds: neo4j.isInt(ttl) ? (ttl as { toNumber(): number }).toNumber() : Number(ttl),
        writers: pick('WRITE'),
        readers: pick('READ'),
        routers: pick('ROUTE'),
      };
    } catch (err) {
      throw mapDriverError(err);
    } finally {
      await session.close().catch(() => undefined);
    }
  }

  async begin(member: MemberRef, req: BeginRequest): Promise<TransactionHandle> {
    const session = this.driverFor(member.cluster, member.address).session({
      database: req.database,
      defaultAccessMode: req.accessMode === 'READ' ? neo4j.session.READ : neo4j.session.WRITE,
      bookmarks: req.bookmarks,
      ...(req.impersonatedUser ? { impersonatedUser: req.impersonatedUser } : {}),
    });
    let tx: Transaction;
    try {
      tx = session.beginTransaction(txConfigOf(req));
      // surface BEGIN failures (auth, unknown database) now rather than on the first statement
      await tx.run('RETURN 1').summary();
    } catch (err) {
      await session.close().catch(() => undefined);
      throw mapDriverError(err);
    }
    // set when a statement was stopped (result budget or deadline): the transaction is over, and
    // its rollback must not wait on a statement that may still be computing
    let stopped = false;
    return {
      member,
      run: async (statement, parameters, maxRows, bounds?: StatementBounds) => {
        const budget = new ResultBudget({ maxBytes: bounds?.maxResultBytes ?? this.defaultMaxResultBytes, deadline: bounds?.deadline });
        const run = collect(tx, statement, paramsToDriver(parameters), maxRows, budget);
        const timer = bounds?.deadline === undefined ? undefined : setTimeout(() => run.abort(deadlineExceeded()), Math.max(0, bounds.deadline - Date.now()));
        try {
          const { fields, values, summary, error } = await run.done;
          return {
            fields,
            values,
            bookmarks: [],
            counters: summary ? countersOf(summary) : EMPTY_COUNTERS,
            notifications: summary ? notificationsOf(summary) : [],
            ...(error ? { error } : {}),
          };
        } catch (err) {
          throw mapDriverError(err);
        } finally {
          if (timer !== undefined) clearTimeout(timer);
          if (run.stopped) stopped = true;
        }
      },
      commit: async () => {
        try {
          await tx.commit();
          return session.lastBookmarks();
        } catch (err) {
          throw mapDriverError(err);
        } finally {
          await session.close().catch(() => undefined);
        }
      },
      rollback: async () => {
        try {
          // the rollback waits for a cancelled statement's stream to settle; one still computing
          // past the deadline is not waited for long: closing the session interrupts it
          const rolledBack = tx.isOpen() ? tx.rollback() : Promise.resolve();
          if (stopped) await Promise.race([rolledBack.catch(() => undefined), new Promise((r) => setTimeout(r, CANCEL_SETTLE_MS))]);
          else await rolledBack;
        } catch {
          // a failed rollback leaves nothing to undo: the server rolls back on close
        } finally {
          await session.close().catch(() => undefined);
        }
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.drivers.values()];
    this.drivers.clear();
    await Promise.all(all.map((d) => d.close().catch(() => undefined)));
  }
}
