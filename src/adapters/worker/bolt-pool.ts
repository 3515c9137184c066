/**
 * Bolt connections that outlive a request, for Workers (GATEWAY_TRANSPORT=bolt-pooled).
 *
 * workerd ties every socket to the request that opened it, so a Worker cannot keep a connection
 * pool: each request would pay a new connection and Neo4j's authentication (as the Query API
 * does for every request it is sent). A Durable Object is the one place on Workers where I/O
 * outlives a request: `BoltPool` holds a BoltTransport (neo4j-driver, one pool per member) and
 * runs auto-commit statements and routing-table fetches for the Worker's requests, called over
 * Workers RPC. Values cross in the Transport port's typed JSON (plain data, structured-clone
 * safe); errors cross as data (`Outcome`), since RPC keeps an error's message but not its code.
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
import { Codes, GatewayError, type Refused } from '../../errors/index.js';
import { BoltTransport } from '../../transport/bolt.js';
import type { MemberRef, RoutingTableData, RunRequest, RunResult, Transport } from '../../transport/types.js';
import { configure, credentialsOf, type Configured, type DurableObjectNamespaceLike, type WorkerEnv } from './bindings.js';

/** a GatewayError as data (what RPC carries intact) */
interface WireError {
  code: string;
  message: string;
  status: number;
  retryable: boolean;
  notSent: boolean;
  headers?: Record<string, string>;
  refused?: Refused;
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: WireError };

/** the most typed JSON one result may take through the pool (half of Workers RPC's 32 MiB, see above) */
export const POOL_MAX_RESULT_BYTES = 15 * 1024 * 1024;

function poolTooLarge(cause: unknown): GatewayError {
  return new GatewayError(
    Codes.ResultTooLarge,
    `The result is larger than ${POOL_MAX_RESULT_BYTES} bytes, the most a Worker's Bolt pool carries (Workers RPC). The statement was stopped (a write it made may or may not have been committed). Return fewer or smaller values, or page with SKIP/LIMIT.`,
    { cause },
  );
}

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

async function settle<T>(work: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (err) {
    const e = err instanceof GatewayError ? err : new GatewayError(Codes.Internal, 'The Bolt connection pool failed unexpectedly.', { cause: err });
    return {
      ok: false,
      error: {
        code: e.code,
        message: e.message,
        status: e.status,
        retryable: e.retryable,
        notSent: e.notSent,
        ...(e.headers ? { headers: e.headers } : {}),
        ...(e.refused ? { refused: e.refused } : {}),
      },
    };
  }
}

/** The Durable Object: a member's Bolt connections, kept while the object lives. */
export class BoltPool extends DurableObject<WorkerEnv> {
  private pool: { config: Configured; transport: BoltTransport } | undefined;

  private transport(): BoltTransport {
    const config = configure(this.env);
    if (this.pool?.config !== config) {
      const stale = this.pool?.transport;
      this.pool = { config, transport: boltTransportOf(config) };
      if (stale) this.ctx.waitUntil(stale.close());
    }
    return this.pool.transport;
  }

  run(member: MemberRef, request: RunRequest): Promise<Outcome<RunResult>> {
    return settle(async () => {
      const transport = this.transport();
      const limit = request.maxResultBytes ?? this.pool!.config.topology.limits.maxResultBytes;
      if (limit <= POOL_MAX_RESULT_BYTES) return transport.run(member, request);
      try {
        return await transport.run(member, { ...request, maxResultBytes: POOL_MAX_RESULT_BYTES });
      } catch (err) {
        throw err instanceof GatewayError && err.code === Codes.ResultTooLarge ? poolTooLarge(err) : err;
      }
    });
  }

  fetchRoutingTable(cluster: string, router: string, database: string, context: Record<string, string>): Promise<Outcome<RoutingTableData>> {
    return settle(() => this.transport().fetchRoutingTable(cluster, router, database, context));
  }
}

/** what the Worker calls on a BoltPool stub */
interface BoltPoolStub {
  run(member: MemberRef, request: RunRequest): Promise<Outcome<RunResult>>;
  fetchRoutingTable(cluster: string, router: string, database: string, context: Record<string, string>): Promise<Outcome<RoutingTableData>>;
}

/**
 * The Worker's side: auto-commit statements and routing-table fetches of a request, sent to the
 * member's pool objects. Object ids are kept for the isolate (they are plain names); stubs are
 * made per call (workerd ties them to the request).
 */
export function pooledBolt(namespace: DurableObjectNamespaceLike, objects: number): Pick<Transport, 'run' | 'fetchRoutingTable'> {
  const ids = new Map<string, unknown>();
  const stub = (cluster: string, address: string): BoltPoolStub => {
    const name = `${cluster}\n${address}\n${Math.floor(Math.random() * objects)}`;
    let id = ids.get(name);
    if (id === undefined) ids.set(name, (id = namespace.idFromName(name)));
    return namespace.get(id) as BoltPoolStub;
  };
  const call = async <T>(address: string, work: () => Promise<Outcome<T>>): Promise<T> => {
    let outcome: Outcome<T>;
    try {
      outcome = await work();
    } catch (err) {
      // what RPC refuses to carry (the pool keeps results below it; a statement's parameters can pass it)
      if (/limited to \d+ ?MiB/i.test(String((err as Error)?.message))) {
        throw new GatewayError(
          Codes.ResultTooLarge,
          'The statement or its result is larger than Workers RPC carries (32 MiB) between the Worker and its Bolt pool.',
          { cause: err },
        );
      }
      // the object could not be reached or was reset (a deployment, an overload): whether the
      // statement ran is unknown, so only reads are retried (the retry policy's rule)
      throw new GatewayError(Codes.DatabaseUnavailable, `The Bolt connection pool of member ${address} did not answer.`, { cause: err });
    }
    if (outcome.ok) return outcome.value;
    const { code, message, ...options } = outcome.error;
    throw new GatewayError(code, message, options);
  };
  return {
    run: (member, request) => call(member.address, () => stub(member.cluster, member.address).run(member, request)),
    fetchRoutingTable: (cluster, router, database, context) => call(router, () => stub(cluster, router).fetchRoutingTable(cluster, router, database, context)),
  };
}
