/**
 * The Transport port: run one statement on one cluster member, or ask a router for a routing
 * table. Values cross this port in Neo4j's typed JSON form (the Query API's
 * `application/vnd.neo4j.query` encoding): lossless, runtime-neutral, and what an HTTP
 * transport gets from Neo4j as is.
 */
import type { TypedValue } from '../values/typed.js';

export type AccessMode = 'READ' | 'WRITE';

export type Counters = Record<string, number | boolean>;

export interface Notification {
  code: string;
  title: string;
  description: string;
  severity: string;
  category?: string;
  position?: { offset: number; line: number; column: number } | null;
  [k: string]: unknown;
}

export interface RunRequest {
  database: string;
  statement: string;
  parameters: Record<string, TypedValue>;
  accessMode: AccessMode;
  bookmarks: string[];
  /** transaction timeout sent to Neo4j */
  timeoutMs?: number;
  impersonatedUser?: string;
  /** transaction metadata Neo4j shows in SHOW TRANSACTIONS and its query log (Bolt; HTTP transports leave it out) */
  metadata?: Record<string, string>;
  /** refuse results with more rows than this */
  maxRows: number;
  /**
   * refuse results larger than this many bytes of typed JSON (ResultTooLarge), measured while
   * rows are read and stopping the statement as soon as it is passed; absent: the transport's
   * default (given to its constructor)
   */
  maxResultBytes?: number;
  /** epoch ms after which the transport abandons the statement (DeadlineExceeded) */
  deadline?: number;
}

/** Bounds of one statement inside an explicit transaction (besides its row limit). */
export interface StatementBounds {
  /** as RunRequest.maxResultBytes */
  maxResultBytes?: number;
  /** as RunRequest.deadline; past it the statement, and with it the transaction, is abandoned */
  deadline?: number;
}

export interface RunResult {
  fields: string[];
  values: TypedValue[][];
  bookmarks: string[];
  counters: Counters;
  notifications: Notification[];
  /**
   * An error raised after the result had started streaming (e.g. a runtime error in a later
   * row). Neo4j's Query API answers these with 202, the rows so far, and `errors`.
   */
  error?: { code: string; message: string };
}

/** how a streamed statement ended: RunResult without its rows */
export type RunEnd = Omit<RunResult, 'fields' | 'values'>;

/**
 * A statement's rows as they arrive (Transport.stream): pulled one at a time, so the transport
 * holds a window of rows (the driver's fetch size), not the result. A failure after the first
 * row is not thrown: `next()` answers undefined and `end()` carries the error, as Neo4j's Query
 * API answers an error while streaming (the rows so far, then `errors`).
 */
export interface RowStream {
  readonly fields: string[];
  /** the next row, or undefined once the result has ended (then `end()` answers) */
  next(): Promise<TypedValue[] | undefined>;
  /** after `next()` answered undefined: bookmarks, counters, notifications, or the error it ended with */
  end(): RunEnd;
  /**
   * Stops the statement (an auto-commit read commits nothing) and gives the connection back once
   * the stream has settled; resolves then. Idempotent; after the end it only waits.
   */
  cancel(): Promise<void>;
}

/** A cluster member as the transports see it. */
export interface MemberRef {
  cluster: string;
  /** advertised Bolt address, "host:port" */
  address: string;
  /** HTTP base URL, for HTTP transports */
  http?: string;
}

export interface RoutingTableData {
  database: string;
  ttlSeconds: number;
  writers: string[];
  readers: string[];
  routers: string[];
}

export interface TransactionHandle {
  run(statement: string, parameters: Record<string, TypedValue>, maxRows: number, bounds?: StatementBounds): Promise<RunResult>;
  commit(): Promise<string[]>;
  rollback(): Promise<void>;
  readonly member: MemberRef;
}

export interface BeginRequest {
  database: string;
  accessMode: AccessMode;
  bookmarks: string[];
  timeoutMs?: number;
  impersonatedUser?: string;
  /** as RunRequest.metadata */
  metadata?: Record<string, string>;
}

/**
 * Transactions kept by Neo4j itself (the Query API's /tx endpoints): the gateway holds no state,
 * the transaction id travels with the client. For runtimes that cannot keep a connection open.
 */
export interface RemoteTransactions {
  begin(
    member: MemberRef,
    request: BeginRequest & StatementBounds & { statement?: string; parameters?: Record<string, TypedValue>; maxRows: number },
  ): Promise<{ id: string; expires: string; affinity: string | undefined; result: RunResult | undefined }>;
  run(
    member: MemberRef,
    database: string,
    id: string,
    affinity: string | undefined,
    statement: string,
    parameters: Record<string, TypedValue>,
    maxRows: number,
    bounds?: StatementBounds,
  ): Promise<{ expires: string | undefined; result: RunResult }>;
  commit(
    member: MemberRef,
    database: string,
    id: string,
    affinity: string | undefined,
    last: (StatementBounds & { statement: string; parameters: Record<string, TypedValue>; maxRows: number }) | undefined,
  ): Promise<{ bookmarks: string[]; result: RunResult | undefined }>;
  rollback(member: MemberRef, database: string, id: string, affinity: string | undefined): Promise<void>;
}

export interface Transport {
  /** run one auto-commit statement on the member */
  run(member: MemberRef, request: RunRequest): Promise<RunResult>;
  /**
   * run one auto-commit statement and hand its rows over as they arrive; resolves once Neo4j has
   * accepted the statement and the first row (or the end) is there, so anything that fails
   * before can be retried like `run`. Past `request.deadline` the stream ends with
   * DeadlineExceeded. Transports that cannot stream omit this (callers then use `run`).
   */
  stream?(member: MemberRef, request: Omit<RunRequest, 'maxRows' | 'maxResultBytes'>): Promise<RowStream>;
  /** ask a router for the routing table of a database */
  fetchRoutingTable(cluster: string, router: string, database: string, context: Record<string, string>): Promise<RoutingTableData>;
  /** open an explicit transaction on the member (transports that cannot keep one open omit this) */
  begin?(member: MemberRef, request: BeginRequest): Promise<TransactionHandle>;
  /** explicit transactions held by Neo4j (HTTP transports) */
  remoteTransactions?: RemoteTransactions;
  close(): Promise<void>;
}
