/**
 * Explicit transactions of the Query API (`/db/{db}/query/v2/tx`). A transaction holds an open
 * connection to one member, so it lives in the gateway instance that began it: responses carry
 * `neo4j-cluster-affinity` (what Query API clients send back) so a load balancer can keep a
 * transaction's requests on that instance. Idle transactions are rolled back.
 *
 * Open transactions are capped per key and in total (limits.maxOpenTransactionsPerKey, per-key
 * apiKeys[].limits.maxOpenTransactions; limits.maxOpenTransactions), so no key can hold every
 * pooled connection to a member. A slot is reserved BEFORE anything is opened on Neo4j and
 * freed when the transaction ends however it ends (commit, rollback, error, idle rollback); the
 * registry must never let a begin through past a cap, nor keep a slot after its transaction.
 */
import { Codes, GatewayError } from '../../errors/index.js';
import type { AccessMode, TransactionHandle } from '../../transport/types.js';
import type { Route } from '../../routing/types.js';

/** A reserved transaction slot: becomes the transaction's (add), or is given back (cancel). */
export interface TransactionSlot {
  readonly principal: string;
  /** gives the slot back when the transaction could not be opened (idempotent) */
  cancel(): void;
}

export interface OpenTransaction {
  id: string;
  principal: string;
  database: string;
  shard: string;
  mode: AccessMode;
  handle: TransactionHandle;
  route: Route;
  sentBookmarks: Record<string, string[]>;
  expiresAt: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  busy: boolean;
  slot: TransactionSlot;
}

function randomId(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export class TransactionRegistry {
  private readonly open = new Map<string, OpenTransaction>();
  /** slots held per key (open transactions and begins under way) */
  private readonly held = new Map<string, number>();
  private heldTotal = 0;

  /**
   * @param idleMs  transactions idle longer than this are rolled back (limits.transactionIdleMs)
   * @param now     clock (default Date.now)
   */
  constructor(
    private readonly idleMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.open.size;
  }

  /** slots held by a key (open transactions and begins under way) */
  heldBy(principal: string): number {
    return this.held.get(principal) ?? 0;
  }

  /**
   * Reserves a slot for a transaction `principal` is about to begin, before anything is opened on
   * Neo4j; throws 429 TooManyTransactions (with Retry-After) when the key holds `maxForKey`
   * (its maxOpenTransactions) or all keys together hold `maxTotal` (limits.maxOpenTransactions).
   */
  reserve(principal: string, maxForKey: number, maxTotal: number): TransactionSlot {
    const mine = this.heldBy(principal);
    if (mine >= maxForKey || this.heldTotal >= maxTotal) {
      const perKey = mine >= maxForKey;
      const retryAfter = this.retryAfterSeconds(perKey ? principal : undefined);
      throw new GatewayError(
        Codes.TooManyTransactions,
        perKey
          ? `API key '${principal}' already holds ${mine} open explicit transactions, the most it may hold on this gateway instance. Commit or roll back one first.`
          : `This gateway instance already holds ${this.heldTotal} open explicit transactions, the most it may hold. Retry later.`,
        { headers: { 'retry-after': String(retryAfter) } },
      );
    }
    this.held.set(principal, mine + 1);
    this.heldTotal++;
    let given = false;
    return {
      principal,
      cancel: () => {
        if (given) return;
        given = true;
        const n = (this.held.get(principal) ?? 1) - 1;
        if (n <= 0) this.held.delete(principal);
        else this.held.set(principal, n);
        this.heldTotal--;
      },
    };
  }

  /** seconds until the first transaction that frees a slot (of `principal`, or any) would idle out */
  private retryAfterSeconds(principal: string | undefined): number {
    let first = Number.POSITIVE_INFINITY;
    for (const tx of this.open.values()) {
      if (principal === undefined || tx.principal === principal) first = Math.min(first, tx.expiresAt);
    }
    const ms = Number.isFinite(first) ? first - this.now() : this.idleMs;
    return Math.max(1, Math.ceil(ms / 1000));
  }

  /** Registers a transaction begun under `tx.slot` (from reserve). */
  add(tx: Omit<OpenTransaction, 'id' | 'expiresAt' | 'timer' | 'busy'>): OpenTransaction {
    const entry: OpenTransaction = { ...tx, id: randomId(), expiresAt: 0, timer: undefined, busy: false };
    this.open.set(entry.id, entry);
    this.touch(entry);
    return entry;
  }

  private touch(tx: OpenTransaction): void {
    tx.expiresAt = this.now() + this.idleMs;
    if (tx.timer) clearTimeout(tx.timer);
    tx.timer = setTimeout(() => {
      if (this.open.get(tx.id) === tx && !tx.busy) {
        this.open.delete(tx.id);
        tx.slot.cancel();
        void tx.handle.rollback();
      }
    }, this.idleMs);
    // never keep a process alive for an idle transaction
    (tx.timer as { unref?: () => void }).unref?.();
  }

  /** Takes a transaction for one request; only its owner may, and one request at a time. */
  take(id: string, principal: string, database: string): OpenTransaction {
    const tx = this.open.get(id);
    if (!tx || tx.principal !== principal || tx.database !== database) {
      throw new GatewayError(
        Codes.RequestInvalid,
        `Transaction with Id: "${id}" was not found. It may have timed out and therefore rolled back or the routing header 'neo4j-cluster-affinity' was not provided.`,
        { status: 404 },
      );
    }
    if (tx.busy) throw new GatewayError(Codes.ConcurrentRequest, 'The transaction is already running a request.');
    tx.busy = true;
    return tx;
  }

  release(tx: OpenTransaction): void {
    tx.busy = false;
    if (this.open.get(tx.id) === tx) this.touch(tx);
  }

  remove(tx: OpenTransaction): void {
    if (tx.timer) clearTimeout(tx.timer);
    this.open.delete(tx.id);
    tx.slot.cancel();
  }

  async closeAll(): Promise<void> {
    const all = [...this.open.values()];
    this.open.clear();
    await Promise.all(
      all.map(async (tx) => {
        if (tx.timer) clearTimeout(tx.timer);
        tx.slot.cancel();
        await tx.handle.rollback();
      }),
    );
  }
}
