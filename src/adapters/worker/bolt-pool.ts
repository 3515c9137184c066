/**
 * Bolt connections that outlive a request, for Workers (GATEWAY_TRANSPORT=bolt-pooled).
 *
 * workerd ties every socket to the request that opened it, so a Worker cannot keep a connection
 * pool: each request would pay a new connection and Neo4j's authentication (as the Query API
 * does for every request it is sent). A Durable Object is the one place on Workers where I/O
 * outlives a request: `BoltPool` holds a BoltTransport (neo4j-driver, one pool per member) and
 * runs auto-commit statements and routing-table fetches for the Worker's requests, called over
 * Workers RPC (pool-rpc.ts: the wire and the Worker's side). Values cross in the Transport port's
 * typed JSON (plain data, structured-clone safe); errors cross as data.
 *
 * Each cluster member has `GATEWAY_BOLT_POOL_OBJECTS` objects (default 4), one picked at random
 * per statement, so one object's single thread does not carry a member's whole load.
 *
 * Workers RPC carries at most 32 MiB per call (serialized), and a string of typed JSON can take
 * up to twice its UTF-8 size once serialized (V8 keeps a string with one non-Latin-1 character as
 * UTF-16). So a result through the pool is limited to POOL_MAX_RESULT_BYTES (15 MiB) of typed
 * JSON, below the key's limit when that is higher: past it the statement is stopped and refused
 * (ResultTooLarge, naming this limit), never cut.
 */
import { DurableObject } from 'cloudflare:workers';
import { Codes, GatewayError } from '../../errors/index.js';
import { resultTooLarge } from '../../limits/result-budget.js';
import { BoltTransport } from '../../transport/bolt.js';
import type { MemberRef, RoutingTableData, RunRequest, RunResult } from '../../transport/types.js';
import { configure, credentialsOf, type Configured, type WorkerEnv } from './bindings.js';
import { settle, type BoltPoolRpc, type Outcome } from './pool-rpc.js';

/** the most typed JSON one result may take through the pool (half of Workers RPC's 32 MiB, see above) */
export const POOL_MAX_RESULT_BYTES = 15 * 1024 * 1024;

/** The BoltTransport a Worker builds from its bindings (per request for "bolt", per object for "bolt-pooled"). */
export function boltTransportOf(config: Configured): BoltTransport {
  const { limits, apiKeys } = config.topology;
  return new BoltTransport({
    credentials: credentialsOf(config),
    maxPoolSize: limits.memberPoolSize,
    maxResultBytes: limits.maxResultBytes,
    maxMessageBytes: Math.max(limits.maxResultBytes, ...apiKeys.map((k) => k.limits?.maxResultBytes ?? 0)),
  });
}

/** The Durable Object: a member's Bolt connections, kept while the object lives. */
export class BoltPool extends DurableObject<WorkerEnv> implements BoltPoolRpc {
  private pool: { config: Configured; transport: BoltTransport } | undefined;

  /** the pool of the current configuration (a new one, and the old closed, when it changed) */
  private current(): { config: Configured; transport: BoltTransport } {
    const config = configure(this.env);
    if (this.pool?.config !== config) {
      const stale = this.pool?.transport;
      this.pool = { config, transport: boltTransportOf(config) };
      if (stale) this.ctx.waitUntil(stale.close());
    }
    return this.pool;
  }

  run(member: MemberRef, request: RunRequest): Promise<Outcome<RunResult>> {
    return settle(async () => {
      const { config, transport } = this.current();
      if ((request.maxResultBytes ?? config.topology.limits.maxResultBytes) <= POOL_MAX_RESULT_BYTES) return transport.run(member, request);
      try {
        return await transport.run(member, { ...request, maxResultBytes: POOL_MAX_RESULT_BYTES });
      } catch (err) {
        if (!(err instanceof GatewayError && err.code === Codes.ResultTooLarge)) throw err;
        throw resultTooLarge(POOL_MAX_RESULT_BYTES, "the most a Worker's Bolt pool carries (Workers RPC)", err);
      }
    });
  }

  fetchRoutingTable(cluster: string, router: string, database: string, context: Record<string, string>): Promise<Outcome<RoutingTableData>> {
    return settle(() => this.current().transport.fetchRoutingTable(cluster, router, database, context));
  }
}
