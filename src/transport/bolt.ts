/**
 * Bolt transport (neo4j-driver): one direct `bolt://` driver, i.e. one connection pool, per
 * cluster member for the life of the process. The gateway picks the member; the driver never
 * routes on its own.
 */
import neo4j, { type Driver, type Session, type Record as NeoRecord, type ResultSummary, type Transaction, type Config } from 'neo4j-driver';
import { Codes, GatewayError, isNeo4jCode } from '../errors/index.js';
import { fromDriver, toDriver } from './bolt-values.js';
import type {
  BeginRequest,
  Counters,
  MemberRef,
  Notification,
  RoutingTableData,
  RunRequest,
  RunResult,
  TransactionHandle,
  Transport,
  TypedValue,
} from './types.js';

export interface BoltTransportOptions {
  /** cluster name -> credentials */
  credentials: (cluster: string) => { user: string; password: string };
  /** neo4j:// URL scheme suffix: "" | "+s" | "+ssc" per cluster (TLS) */
  scheme?: (cluster: string) => string;
  maxPoolSize?: number;
  connectionTimeoutMs?: number;
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
    return new GatewayError(Codes.DatabaseUnavailable, 'The database is unavailable: no connection to the cluster member could be made.', { cause: err, status: 503, retryable: true, notSent });
  }
  if (code === 'ProtocolError') {
    return new GatewayError(Codes.DatabaseUnavailable, 'The cluster member broke the Bolt protocol.', { cause: err, status: 502, retryable: false });
  }
  return new GatewayError(Codes.Internal, 'The gateway failed to run the statement.', { cause: err, status: 500 });
}

/**
 * Runs a statement and collects its rows as typed values. Callback subscription (not the async
 * iterator, which costs a promise per record). Rows past `maxRows` are not kept; the result is
 * still consumed to its end, so an auto-commit write commits, and the caller gets ResultTooLarge.
 */
function collect(
  session: Session | Transaction,
  statement: string,
  params: Record<string, unknown>,
  maxRows: number,
  txConfig?: { timeout?: number },
): Promise<{ fields: string[]; values: TypedValue[][]; summary: ResultSummary | undefined; error?: { code: string; message: string } }> {
  const result = 'lastBookmarks' in session ? (session as Session).run(statement, params, txConfig) : (session as Transaction).run(statement, params);
  return new Promise((resolve, reject) => {
    let fields: string[] | undefined;
    const values: TypedValue[][] = [];
    let overflow = false;
    result.subscribe({
      onKeys: (keys) => {
        fields = keys as string[];
      },
      onNext: (record: NeoRecord) => {
        if (values.length >= maxRows) {
          overflow = true;
          return;
        }
        const row: TypedValue[] = new Array(record.length);
        for (let i = 0; i < record.length; i++) row[i] = fromDriver(record.get(i));
        values.push(row);
      },
      onCompleted: (summary: ResultSummary) => {
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
        // before the keys arrived, the statement never started (syntax, semantics, access mode):
        // a plain error. After, it failed while streaming: the rows so far and the error, as
        // Neo4j's Query API answers.
        if (fields === undefined || !isNeo4jCode((err as { code?: unknown })?.code)) {
          reject(mapDriverError(err));
          return;
        }
        const mapped = mapDriverError(err);
        resolve({ fields, values, summary: undefined, error: { code: mapped.code, message: mapped.message } });
      },
    });
  });
}

const EMPTY_COUNTERS: Counters = {};

export class BoltTransport implements Transport {
  private readonly drivers = new Map<string, Driver>();

  /** connection pools open: one per cluster member the process has talked to */
  get pools(): number {
    return this.drivers.size;
  }
  private readonly options: BoltTransportOptions;
  private closed = false;

  constructor(options: BoltTransportOptions) {
    this.options = options;
  }

  /** one driver (pool) per cluster member, created on first use, kept for the process */
  driverFor(cluster: string, address: string): Driver {
    const key = `${cluster}/${address}`;
    let driver = this.drivers.get(key);
    if (!driver) {
      if (this.closed) throw new GatewayError(Codes.DatabaseUnavailable, 'The gateway is shutting down.', { status: 503 });
      const { user, password } = this.options.credentials(cluster);
      const scheme = `bolt${this.options.scheme?.(cluster) ?? ''}`;
      driver = neo4j.driver(`${scheme}://${address}`, neo4j.auth.basic(user, password), {
        maxConnectionPoolSize: this.options.maxPoolSize ?? 100,
        connectionTimeout: this.options.connectionTimeoutMs ?? 5000,
        connectionAcquisitionTimeout: 10000,
        maxTransactionRetryTime: 0,
        disableLosslessIntegers: false,
        userAgent: 'neo4j-edge-gateway/0.1',
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
    // one plain timer per statement (cheaper than an AbortSignal): past the deadline the session
    // is closed, which fails the pending result
    let expired = false;
    const timer = req.deadline === undefined ? undefined : setTimeout(() => {
      expired = true;
      void session.close();
    }, Math.max(0, req.deadline - Date.now()));
    try {
      const { fields, values, summary, error } = await collect(session, req.statement, params, req.maxRows, req.timeoutMs ? { timeout: req.timeoutMs } : undefined);
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
      await session.close().catch(() => undefined);
    }
  }

  async fetchRoutingTable(cluster: string, router: string, database: string, context: Record<string, string>): Promise<RoutingTableData> {
    const session = this.driverFor(cluster, router).session({ database: 'system', defaultAccessMode: neo4j.session.READ });
    try {
      const res = await session.run('CALL dbms.routing.getRoutingTable($context, $database)', { context, database });
      const rec = res.records[0];
      if (!rec) throw new GatewayError(Codes.DatabaseUnavailable, `Router ${router} returned no routing table.`, { status: 503 });
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
      tx = session.beginTransaction(req.timeoutMs ? { timeout: req.timeoutMs } : undefined);
      // surface BEGIN failures (auth, unknown database) now rather than on the first statement
      await tx.run('RETURN 1').summary();
    } catch (err) {
      await session.close().catch(() => undefined);
      throw mapDriverError(err);
    }
    return {
      member,
      run: async (statement, parameters, maxRows) => {
        try {
          const { fields, values, summary, error } = await collect(tx, statement, paramsToDriver(parameters), maxRows);
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
          if (tx.isOpen()) await tx.rollback();
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
