/**
 * Explicit transactions held by Neo4j (its Query API's /tx endpoints), for transports that cannot
 * keep a connection open (HTTP, Workers). The gateway keeps nothing: the id it hands out is signed
 * (tx-token.ts) and carries the member, Neo4j's transaction id and the key it belongs to, so any
 * instance can continue it and no other key can.
 */
import type { Topology } from '../../config/schema.js';
import type { Route } from '../../routing/types.js';
import type { RemoteTransactions as RemoteTransport } from '../../transport/types.js';
import { memberRegion } from '../../topology/index.js';
import type { Principal } from '../auth.js';
import type { Begun, HeldTransaction, Opening, TransactionBackend } from './backend.js';
import { TxTokens } from './tx-token.js';

export class RemoteTransactions implements TransactionBackend {
  readonly affinity = undefined;
  readonly size = 0;
  private readonly tokens: TxTokens;

  constructor(
    private readonly topology: Topology,
    private readonly remote: RemoteTransport,
    secret: string,
    private readonly now: () => number,
  ) {
    this.tokens = new TxTokens(secret);
  }

  heldBy(): number {
    return 0;
  }

  async begin(principal: Principal, prepare: () => Promise<Opening>): Promise<Begun> {
    const o = await prepare();
    const begun = await this.remote.begin(o.route.member, {
      database: o.database,
      accessMode: o.mode,
      bookmarks: o.bookmarks,
      maxRows: o.bounds.maxRows,
      ...(o.bounds.maxResultBytes !== undefined ? { maxResultBytes: o.bounds.maxResultBytes } : {}),
      ...(o.bounds.deadline !== undefined ? { deadline: o.bounds.deadline } : {}),
      ...(o.first ? { statement: o.first.statement, parameters: o.first.parameters } : {}),
      timeoutMs: o.timeoutMs,
      ...(o.impersonatedUser !== undefined ? { impersonatedUser: o.impersonatedUser } : {}),
    });
    const id = await this.tokens.sign({
      cluster: o.route.member.cluster,
      member: o.route.member.address,
      database: o.database,
      shard: o.shard,
      requested: o.requested,
      mode: o.mode,
      neo4jId: begun.id,
      ...(begun.affinity ? { affinity: begun.affinity } : {}),
      apiKey: principal.id,
    });
    return { id, expires: begun.expires, route: o.route, result: begun.result };
  }

  async take(id: string, principal: Principal, requested: string): Promise<HeldTransaction> {
    const tx = await this.tokens.verify(id, principal.id, requested);
    const member = { cluster: tx.cluster, address: tx.member };
    const route: Route = { shard: tx.shard, member, role: 'WRITE', region: memberRegion(this.topology, tx.cluster, tx.member), cache: 'memory' };
    return {
      shard: tx.shard,
      mode: tx.mode,
      route,
      run: async (s, bounds) => {
        const { maxRows, ...rest } = bounds;
        const out = await this.remote.run(member, tx.database, tx.neo4jId, tx.affinity, s.statement, s.parameters, maxRows, rest);
        return { result: out.result, expires: out.expires ?? new Date(this.now() + this.topology.limits.transactionIdleMs).toISOString() };
      },
      commit: async (last, bounds) => {
        const out = await this.remote.commit(member, tx.database, tx.neo4jId, tx.affinity, last ? { ...last, ...bounds } : undefined);
        return { result: out.result, bookmarks: { [tx.shard]: out.bookmarks } };
      },
      rollback: () => this.remote.rollback(member, tx.database, tx.neo4jId, tx.affinity),
      release: () => undefined,
    };
  }

  async close(): Promise<void> {}
}
