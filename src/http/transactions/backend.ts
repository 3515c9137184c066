/**
 * Explicit transactions of the Query API (/db/{db}/query/v2/tx...), whoever holds them: this
 * instance (local.ts: the transport keeps a connection open, Bolt on Node) or Neo4j (remote.ts:
 * HTTP transports, ids signed with the fleet secret). The routes (routes/transactions.ts) speak
 * only this interface; statements are gated before they reach it.
 */
import type { ShardBookmarks } from '../../routing/bookmarks.js';
import type { Route } from '../../routing/types.js';
import type { AccessMode, RunResult, StatementBounds } from '../../transport/types.js';
import type { TypedValue } from '../../values/typed.js';
import type { Principal } from '../auth.js';

/** the bounds of one statement: its key's row and byte limits, the request deadline */
export type Bounds = StatementBounds & { maxRows: number };

export interface Statement {
  statement: string;
  parameters: Record<string, TypedValue>;
}

/** everything beginning a transaction needs, prepared (gated and routed) by the route */
export interface Opening {
  /** the database the client named (/db/{db}) */
  requested: string;
  shard: string;
  /** the Neo4j database of the shard */
  database: string;
  route: Route;
  mode: AccessMode;
  /** the client's bookmarks: all of them (merged into the commit's), and this shard's */
  sent: ShardBookmarks;
  bookmarks: string[];
  /** a first statement to run in the transaction (already gated), if the request has one */
  first: Statement | undefined;
  bounds: Bounds;
  timeoutMs: number;
  impersonatedUser: string | undefined;
  /** transaction metadata for Neo4j (request id, trace, key) */
  metadata: Record<string, string>;
}

export interface Begun {
  id: string;
  /** ISO time after which an idle transaction is rolled back */
  expires: string;
  route: Route;
  result: RunResult | undefined;
}

/** a transaction taken for one request (one request at a time) */
export interface HeldTransaction {
  readonly shard: string;
  readonly mode: AccessMode;
  readonly route: Route;
  /** runs a statement; a failed statement rolls the transaction back, as Neo4j does */
  run(statement: Statement, bounds: Bounds): Promise<{ result: RunResult; expires: string }>;
  /** runs a last statement (if any) and commits; a failed last statement rolls back (bookmarks: null) */
  commit(last: Statement | undefined, bounds: Bounds): Promise<{ result: RunResult | undefined; bookmarks: ShardBookmarks | null }>;
  rollback(): Promise<void>;
  /** gives the transaction back untouched (its statement was refused before anything ran) */
  release(): void;
}

export interface TransactionBackend {
  /** the value of neo4j-cluster-affinity on responses (the instance holding the transactions), if any */
  readonly affinity: string | undefined;
  /**
   * Begins a transaction. `prepare` gates and routes the request; the backend calls it once it
   * may open a transaction (a local one reserves its slot first: 429 before Neo4j is called).
   */
  begin(principal: Principal, prepare: () => Promise<Opening>): Promise<Begun>;
  /** the caller's transaction, held for one request; 404 when it is not the caller's or not there */
  take(id: string, principal: Principal, requested: string): Promise<HeldTransaction>;
  /** transactions open on this instance (held by Neo4j: not counted) */
  readonly size: number;
  /** slots a key holds on this instance */
  heldBy(key: string): number;
  close(): Promise<void>;
}
