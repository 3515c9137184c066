/**
 * Explicit transactions held by this instance: the transport keeps a connection to one member
 * open for each (Bolt on Node). Responses carry `neo4j-cluster-affinity` so a load balancer keeps
 * a transaction's requests here. Slots are capped per key and in total (registry.ts), reserved
 * before anything is opened on Neo4j.
 */
import type { Topology } from '../../config/schema.js';
import { mergeBookmarks } from '../../routing/bookmarks.js';
import { effectiveLimits } from '../../limits/effective.js';
import type { RunResult, Transport } from '../../transport/types.js';
import type { Principal } from '../auth.js';
import type { Begun, Bounds, HeldTransaction, Opening, Statement, TransactionBackend } from './backend.js';
import { type OpenTransaction, TransactionRegistry } from './registry.js';

export class LocalTransactions implements TransactionBackend {
  private readonly registry: TransactionRegistry;

  constructor(
    private readonly topology: Topology,
    private readonly open: NonNullable<Transport['begin']>,
    now: () => number,
    readonly affinity: string,
  ) {
    this.registry = new TransactionRegistry(topology.limits.transactionIdleMs, now);
  }

  get size(): number {
    return this.registry.size;
  }

  heldBy(key: string): number {
    return this.registry.heldBy(key);
  }

  async begin(principal: Principal, prepare: () => Promise<Opening>): Promise<Begun> {
    // a slot first (429 past the key's or the instance's cap): nothing is opened on Neo4j without one
    const slot = this.registry.reserve(
      principal.id,
      effectiveLimits(principal.limits, this.topology.limits).maxOpenTransactions,
      this.topology.limits.maxOpenTransactions,
    );
    let o: Opening;
    let tx: OpenTransaction;
    try {
      o = await prepare();
      const handle = await this.open(o.route.member, {
        database: o.database,
        accessMode: o.mode,
        bookmarks: o.bookmarks,
        timeoutMs: o.timeoutMs,
        metadata: o.metadata,
        ...(o.impersonatedUser !== undefined ? { impersonatedUser: o.impersonatedUser } : {}),
      });
      tx = this.registry.add({
        principal: principal.id,
        database: o.requested,
        shard: o.shard,
        mode: o.mode,
        handle,
        route: o.route,
        sentBookmarks: o.sent,
        slot,
      });
    } catch (err) {
      slot.cancel();
      throw err;
    }
    let result: RunResult | undefined;
    if (o.first) {
      tx.busy = true;
      try {
        result = await this.runIn(tx, o.first, o.bounds);
      } catch (err) {
        this.registry.remove(tx);
        await tx.handle.rollback();
        throw err;
      } finally {
        this.registry.release(tx);
      }
    }
    return { id: tx.id, expires: new Date(tx.expiresAt).toISOString(), route: tx.route, result };
  }

  private runIn(tx: OpenTransaction, s: Statement, bounds: Bounds): Promise<RunResult> {
    const { maxRows, ...rest } = bounds;
    return tx.handle.run(s.statement, s.parameters, maxRows, rest);
  }

  async take(id: string, principal: Principal, requested: string): Promise<HeldTransaction> {
    const tx = this.registry.take(id, principal.id, requested);
    const registry = this.registry;
    return {
      shard: tx.shard,
      mode: tx.mode,
      route: tx.route,
      run: async (s, bounds) => {
        let result: RunResult;
        try {
          result = await this.runIn(tx, s, bounds);
          if (result.error) {
            // Neo4j rolls a transaction back on any error
            registry.remove(tx);
            await tx.handle.rollback();
          }
        } catch (err) {
          registry.remove(tx);
          await tx.handle.rollback();
          throw err;
        } finally {
          registry.release(tx);
        }
        // released: the idle clock starts again now
        return { result, expires: new Date(tx.expiresAt).toISOString() };
      },
      commit: async (last, bounds) => {
        registry.remove(tx);
        let result: RunResult | undefined;
        try {
          if (last) result = await this.runIn(tx, last, bounds);
        } catch (err) {
          await tx.handle.rollback();
          throw err;
        }
        if (result?.error) {
          await tx.handle.rollback();
          return { result, bookmarks: null };
        }
        const bookmarks = await tx.handle.commit();
        return { result, bookmarks: mergeBookmarks(tx.sentBookmarks, { [tx.shard]: bookmarks }) };
      },
      rollback: async () => {
        registry.remove(tx);
        await tx.handle.rollback();
      },
      release: () => registry.release(tx),
    };
  }

  close(): Promise<void> {
    return this.registry.closeAll();
  }
}
