/**
 * Bolt transport (neo4j-driver): one direct `bolt://` driver, i.e. one connection pool, per
 * cluster member for the life of the process. The gateway picks the member; the driver never
 * routes on its own. Here: the pools, auto-commit statements and routing-table fetches; explicit
 * transactions in bolt-transaction.ts, result collection under the request's bounds in
 * bolt-collect.ts, the driver's vocabulary in bolt-mapping.ts.
 */
import { GATEWAY_AGENT } from '../config/version.js';
import neo4j, { type Driver, type Config } from 'neo4j-driver';
import { Codes, GatewayError } from '../errors/index.js';
import { DEFAULT_MAX_RESULT_BYTES } from '../limits/effective.js';
import { limitBoltMessages } from './bolt-wire-guard.js';
import { ResultBudget, deadlineExceeded } from '../limits/result-budget.js';
import { CANCEL_SETTLE_MS, collect, settled } from './bolt-collect.js';
import { countersOf, EMPTY_COUNTERS, mapDriverError, notificationsOf, paramsToDriver, txConfigOf } from './bolt-mapping.js';
import { openStream } from './bolt-stream.js';
import { beginOn } from './bolt-transaction.js';
import type { BeginRequest, MemberRef, RoutingTableData, RowStream, RunRequest, RunResult, TransactionHandle, Transport } from './types.js';

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
    // one plain timer per statement (cheaper than an AbortSignal): past the deadline the request
    // is answered at once (504), never held until Neo4j replies (its parser or planner can take
    // minutes on a pathological statement, which no transaction timeout covers); a streaming
    // result is cancelled, and a statement still computing (no record yet) is stopped by closing
    // the session (a RESET, the only way to interrupt it), in the background
    let expired = false;
    const timer =
      req.deadline === undefined
        ? undefined
        : setTimeout(
            () => {
              expired = true;
              const computing = !run.streaming;
              run.abort(deadlineExceeded());
              if (computing) void session.close().catch(() => undefined);
            },
            Math.max(0, req.deadline - Date.now()),
          );
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
      if (expired)
        throw err instanceof GatewayError && err.code === Codes.DeadlineExceeded
          ? err
          : new GatewayError(Codes.DeadlineExceeded, 'The request deadline passed before the statement finished.', { cause: err });
      throw mapDriverError(err);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      // a stopped result is still draining (one batch at most): the answer goes out now, the
      // connection goes back to the pool once the stream has settled
      if (run.stopped) void settled(run.result, CANCEL_SETTLE_MS).then(() => session.close().catch(() => undefined));
      else await session.close().catch(() => undefined);
    }
  }

  stream(member: MemberRef, req: Omit<RunRequest, 'maxRows' | 'maxResultBytes'>): Promise<RowStream> {
    const session = this.driverFor(member.cluster, member.address).session({
      database: req.database,
      defaultAccessMode: req.accessMode === 'READ' ? neo4j.session.READ : neo4j.session.WRITE,
      bookmarks: req.bookmarks,
      ...(req.impersonatedUser ? { impersonatedUser: req.impersonatedUser } : {}),
    });
    return openStream(session, req.statement, paramsToDriver(req.parameters), txConfigOf(req), req.deadline);
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
    return beginOn(session, member, req, this.defaultMaxResultBytes);
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.drivers.values()];
    this.drivers.clear();
    await Promise.all(all.map((d) => d.close().catch(() => undefined)));
  }
}
