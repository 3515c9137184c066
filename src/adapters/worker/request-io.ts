/**
 * Per-request I/O on Workers. workerd refuses I/O objects (sockets, fetch bodies, Redis
 * connections) shared between requests, while the gateway (routes, services, GraphQL schema,
 * routing tables, analyses) is built once per isolate. So each request gets its own transport and
 * Redis client, bound to its async context (AsyncLocalStorage, through ../node/async-scope.ts), and the gateway sees one Transport
 * and one Cache that reach the current request's.
 */
import { asyncScope } from '../node/async-scope.js';
import type { Cache, RateLeaseGrant, RateLeaseRequest } from '../../cache/types.js';
import { Codes, GatewayError } from '../../errors/index.js';
import type { RemoteTransactions, Transport } from '../../transport/types.js';

export interface RequestIO {
  transport: Transport;
  cache: Cache | undefined;
  /** the request's ctx.waitUntil */
  waitUntil(work: Promise<unknown>): void;
  /** background work started for this request (its I/O closes once it settles) */
  background: Promise<unknown>[];
}

const scope = asyncScope<RequestIO>();

function current(): RequestIO {
  const io = scope.get();
  if (!io) throw new GatewayError(Codes.Internal, 'The gateway reached for I/O outside a request.');
  return io;
}

/** runs `fn` (the request) with `io` as its I/O; background work it starts keeps the same I/O */
export function withRequestIO<T>(io: RequestIO, fn: () => Promise<T>): Promise<T> {
  return scope.run(io, fn);
}

/** hands background work to the current request's waitUntil, and remembers it so the request's I/O outlives it */
export function waitUntilCurrent(work: Promise<unknown>): void {
  const io = scope.get();
  if (!io) return;
  io.background.push(work);
  io.waitUntil(work);
}

/** a Transport that runs on the current request's transport; `remote`: it offers transactions held by Neo4j */
export function currentTransport(remote: boolean): Transport {
  const transactions = (): RemoteTransactions => {
    const r = current().transport.remoteTransactions;
    if (!r)
      throw new GatewayError(
        Codes.TransactionsNotSupported,
        'Explicit transactions are not available on this runtime; send each statement to /db/{db}/query/v2.',
      );
    return r;
  };
  return {
    run: (member, request) => current().transport.run(member, request),
    fetchRoutingTable: (cluster, router, database, context) => current().transport.fetchRoutingTable(cluster, router, database, context),
    ...(remote
      ? {
          remoteTransactions: {
            begin: (member, request) => transactions().begin(member, request),
            run: (...args) => transactions().run(...args),
            commit: (...args) => transactions().commit(...args),
            rollback: (...args) => transactions().rollback(...args),
          },
        }
      : {}),
    // each request's transport is closed with the request
    close: async () => undefined,
  };
}

/**
 * A Cache that uses the current request's Redis client. Workers hold no subscription (pub/sub
 * needs a connection that outlives requests): invalidations from other instances arrive as
 * expired or missing entries instead.
 */
export function currentCache(): Cache {
  const cache = (): Cache => {
    const c = current().cache;
    if (!c) throw new GatewayError(Codes.Internal, 'This request has no shared cache.');
    return c;
  };
  return {
    kind: 'redis',
    get: (key) => cache().get(key),
    set: (key, value, ttlMs) => cache().set(key, value, ttlMs),
    del: (key) => cache().del(key),
    tryLock: (key, token, ttlMs) => cache().tryLock(key, token, ttlMs),
    unlock: (key, token) => cache().unlock(key, token),
    publish: (channel, message) => cache().publish(channel, message),
    subscribe: async () => undefined,
    healthy: () => scope.get()?.cache?.healthy() ?? true,
    close: async () => undefined,
    rateLease: (key: string, request: RateLeaseRequest): Promise<RateLeaseGrant | null> => {
      const c = cache();
      return c.rateLease ? c.rateLease(key, request) : Promise.resolve(null);
    },
  };
}
