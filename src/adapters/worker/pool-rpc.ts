/**
 * The wire between a Worker and its Bolt pool objects (bolt-pool.ts), over Workers RPC: what the
 * object answers (`Outcome`: a value, or a GatewayError as data, since RPC keeps an error's
 * message but not its code) and the Worker's side, a Transport whose statements and
 * routing-table fetches go to a member's objects. No workerd module here: the Worker's side and
 * the encoding are plain code (unit-tested in Node).
 */
import { Codes, GatewayError, type Refused } from '../../errors/index.js';
import type { MemberRef, RoutingTableData, RunRequest, RunResult, Transport } from '../../transport/types.js';
import type { DurableObjectNamespaceLike } from './bindings.js';

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

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: WireError };

/** what the Worker calls on a pool object */
export interface BoltPoolRpc {
  run(member: MemberRef, request: RunRequest): Promise<Outcome<RunResult>>;
  fetchRoutingTable(cluster: string, router: string, database: string, context: Record<string, string>): Promise<Outcome<RoutingTableData>>;
}

/** The object's side: `work`'s value, or its error as data (anything but a GatewayError becomes Internal, its text not sent). */
export async function settle<T>(work: () => Promise<T>): Promise<Outcome<T>> {
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

/**
 * The Worker's side: auto-commit statements and routing-table fetches of a request, sent to one
 * of the member's `objects` pool objects (at random). Object ids are kept (they are plain
 * names); stubs are made per call (workerd ties them to the request).
 */
export function pooledBolt(namespace: DurableObjectNamespaceLike, objects: number): Pick<Transport, 'run' | 'fetchRoutingTable'> {
  const ids = new Map<string, unknown>();
  const stub = (cluster: string, address: string): BoltPoolRpc => {
    const name = `${cluster}\n${address}\n${Math.floor(Math.random() * objects)}`;
    let id = ids.get(name);
    if (id === undefined) ids.set(name, (id = namespace.idFromName(name)));
    return namespace.get(id) as BoltPoolRpc;
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
          {
            cause: err,
          },
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
