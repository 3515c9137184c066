/**
 * Explicit transactions of the Query API (`/db/{db}/query/v2/tx`). A transaction holds an open
 * connection to one member, so it lives in the gateway instance that began it: responses carry
 * `neo4j-cluster-affinity` (what Query API clients send back) so a load balancer can keep a
 * transaction's requests on that instance. Idle transactions are rolled back.
 */
import { Codes, GatewayError } from '../errors/index.js';
import type { AccessMode, TransactionHandle } from '../transport/types.js';
import type { Route } from '../routing/service.js';

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
}

function randomId(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export class TransactionRegistry {
  private readonly open = new Map<string, OpenTransaction>();
  constructor(
    private readonly idleMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.open.size;
  }

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
      throw new GatewayError(Codes.RequestInvalid, `Transaction with Id: "${id}" was not found. It may have timed out and therefore rolled back or the routing header 'neo4j-cluster-affinity' was not provided.`, { status: 404 });
    }
    if (tx.busy) throw new GatewayError('Neo.ClientError.Transaction.ConcurrentRequest', 'The transaction is already running a request.', { status: 409 });
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
  }

  async closeAll(): Promise<void> {
    const all = [...this.open.values()];
    this.open.clear();
    await Promise.all(all.map(async (tx) => {
      if (tx.timer) clearTimeout(tx.timer);
      await tx.handle.rollback();
    }));
  }
}
