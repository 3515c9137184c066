/**
 * Query API transport: runs statements on a member through Neo4j's own HTTP Query API with
 * fetch, in typed JSON, so values pass through untouched. It opens nothing that outlives a call,
 * which is what Workers need (no I/O object may cross requests). Routing tables come from the
 * same endpoint (CALL dbms.routing.getRoutingTable). Explicit transactions are held by Neo4j
 * (the Query API's /tx endpoints: `remoteTransactions`); Neo4j's Query API has no field for
 * transaction metadata, so none is sent.
 */
import { Codes, GatewayError, isNeo4jCode } from '../errors/index.js';
import { DEFAULT_MAX_RESULT_BYTES } from '../limits/effective.js';
import { readBoundedText } from '../limits/bounded-read.js';
import { deadlineExceeded, resultTooLarge } from '../limits/result-budget.js';
import type { Counters, MemberRef, Notification, RemoteTransactions, RoutingTableData, RunRequest, RunResult, StatementBounds, Transport } from './types.js';
import type { TypedValue } from '../values/typed.js';

export interface QueryApiTransportOptions {
  credentials: (cluster: string) => { user: string; password: string };
  /** HTTP base URL of a member by its Bolt address ("host:port"); undefined when unknown */
  httpOf: (cluster: string, address: string) => string | undefined;
  fetch?: typeof fetch;
  /** connect + response timeout for one call when the request gives no deadline */
  timeoutMs?: number;
  /**
   * largest response body read from a member when the request names no limit (bytes; default
   * 32 MiB): the body is streamed and counted, and the read is abandoned past it (ResultTooLarge)
   */
  maxResultBytes?: number;
}

/** what a response body that is too large reads as: the caller fails the statement */
const TOO_LARGE = Symbol('too large');

/**
 * Reads a response body as text, abandoning the read (the connection is dropped, so Neo4j stops
 * writing) as soon as `maxBytes` is passed (limits/bounded-read.ts).
 */
async function readBounded(res: Response, maxBytes: number): Promise<string | typeof TOO_LARGE> {
  return (await readBoundedText(res, maxBytes)) ?? TOO_LARGE;
}

const isAbort = (err: unknown) => {
  const name = (err as { name?: string })?.name;
  return name === 'TimeoutError' || name === 'AbortError';
};

const TYPED = 'application/vnd.neo4j.query';

interface QueryApiBody {
  transaction?: { id: string; expires: string };
  data?: { fields: string[]; values: TypedValue[][] };
  counters?: Counters;
  notifications?: Notification[];
  bookmarks?: string[];
  errors?: { code: string; message: string }[];
}

/** the fields of a Query API body that an auto-commit statement and a begin share: bookmarks, mode, counters, impersonation, timeout */
function sessionFields(req: Pick<RunRequest, 'bookmarks' | 'accessMode' | 'impersonatedUser' | 'timeoutMs'>): Record<string, unknown> {
  return {
    bookmarks: req.bookmarks,
    accessMode: req.accessMode,
    includeCounters: true,
    ...(req.impersonatedUser ? { impersonatedUser: req.impersonatedUser } : {}),
    ...(req.timeoutMs ? { maxExecutionTime: req.timeoutMs } : {}),
  };
}

/** rollbacks of an abandoned statement's transaction before giving up (about 1.3 s of waits in all) */
const ABANDONED_ROLLBACK_ATTEMPTS = 10;

export class QueryApiTransport implements Transport {
  private readonly fetchImpl: typeof fetch;
  private readonly defaultMaxResultBytes: number;
  constructor(private readonly options: QueryApiTransportOptions) {
    this.fetchImpl = options.fetch ?? ((...args: Parameters<typeof fetch>) => fetch(...args));
    this.defaultMaxResultBytes = options.maxResultBytes ?? DEFAULT_MAX_RESULT_BYTES;
  }

  private base(cluster: string, address: string): string {
    const http = this.options.httpOf(cluster, address);
    if (!http) {
      throw new GatewayError(
        Codes.DatabaseUnavailable,
        `Member ${address} of cluster '${cluster}' has no "http" URL in the topology; the Query API transport cannot reach it.`,
        { retryable: true },
      );
    }
    return http.replace(/\/$/, '');
  }

  private async post(
    cluster: string,
    address: string,
    database: string,
    body: Record<string, unknown> | undefined,
    deadline?: number,
    opts: { suffix?: string; method?: string; affinity?: string | undefined; maxResultBytes?: number | undefined } = {},
  ): Promise<QueryApiBody & { status: number; affinity: string | undefined }> {
    const { user, password } = this.options.credentials(cluster);
    const url = `${this.base(cluster, address)}/db/${encodeURIComponent(database)}/query/v2${opts.suffix ?? ''}`;
    const timeout = Math.max(1, deadline !== undefined ? deadline - Date.now() : (this.options.timeoutMs ?? 30_000));
    let res: Response;
    try {
      res = await this.fetchImpl(url, {
        method: opts.method ?? 'POST',
        headers: {
          'content-type': TYPED,
          accept: TYPED,
          authorization: `Basic ${btoa(`${user}:${password}`)}`,
          ...(opts.affinity ? { 'neo4j-cluster-affinity': opts.affinity } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(timeout),
      });
    } catch (err) {
      if ((err as { name?: string })?.name === 'TimeoutError') {
        throw new GatewayError(Codes.DeadlineExceeded, 'The request deadline passed before the member answered.', { cause: err });
      }
      // nothing reached the member: safe to retry anywhere
      throw new GatewayError(Codes.DatabaseUnavailable, 'The database is unavailable: no connection to the cluster member could be made.', {
        retryable: true,
        notSent: true,
        cause: err,
      });
    }
    let parsed: QueryApiBody;
    const maxBytes = opts.maxResultBytes ?? this.defaultMaxResultBytes;
    let text: string | typeof TOO_LARGE;
    try {
      text = await readBounded(res, maxBytes);
    } catch (err) {
      // the signal also bounds the body: a deadline that passes mid-read aborts it
      if (isAbort(err)) throw new GatewayError(Codes.DeadlineExceeded, "The request deadline passed before the member's answer was read.", { cause: err });
      throw new GatewayError(Codes.DatabaseUnavailable, `The connection to member ${address} broke while its answer was read.`, { status: 502, cause: err });
    }
    if (text === TOO_LARGE) throw resultTooLarge(maxBytes);
    try {
      parsed = text === '' ? {} : (JSON.parse(text) as QueryApiBody);
    } catch (err) {
      throw new GatewayError(Codes.DatabaseUnavailable, `Member ${address} answered ${res.status} without a Query API body.`, { status: 502, cause: err });
    }
    if (deadline !== undefined && Date.now() > deadline) throw deadlineExceeded();
    return { ...parsed, status: res.status, affinity: res.headers.get('neo4j-cluster-affinity') ?? undefined };
  }

  private static fail(body: QueryApiBody & { status: number }): never {
    if (body.status === 404 && !body.errors?.[0]?.code.startsWith('Neo.ClientError.Database')) {
      throw new GatewayError(Codes.RequestInvalid, body.errors?.[0]?.message ?? 'Transaction not found.', { status: 404 });
    }
    const e = body.errors?.[0];
    if (e && isNeo4jCode(e.code)) throw new GatewayError(e.code, e.message);
    if (body.status === 401 || body.status === 403)
      throw new GatewayError(Codes.DatabaseUnavailable, 'The gateway could not authenticate to the cluster member.');
    throw new GatewayError(Codes.DatabaseUnavailable, `The cluster member answered ${body.status}.`, { status: 502 });
  }

  async run(member: MemberRef, req: RunRequest): Promise<RunResult> {
    const body = await this.post(
      member.cluster,
      member.address,
      req.database,
      {
        statement: req.statement,
        parameters: req.parameters,
        ...sessionFields(req),
      },
      req.deadline,
      { maxResultBytes: req.maxResultBytes },
    );
    if (body.status >= 300 || !body.data) QueryApiTransport.fail(body);
    const { fields, values } = body.data;
    if (values.length > req.maxRows) {
      throw new GatewayError(
        Codes.ResultTooLarge,
        `The result has more than ${req.maxRows} rows, the most this gateway returns. Add a LIMIT or page with SKIP/LIMIT. (The statement did run: any writes it made were committed.)`,
      );
    }
    const error = body.errors?.[0];
    return {
      fields,
      values,
      bookmarks: body.bookmarks ?? [],
      counters: body.counters ?? {},
      notifications: body.notifications ?? [],
      ...(error ? { error: { code: error.code, message: error.message } } : {}),
    };
  }

  async fetchRoutingTable(cluster: string, router: string, database: string, context: Record<string, string>): Promise<RoutingTableData> {
    const body = await this.post(cluster, router, 'system', {
      statement: 'CALL dbms.routing.getRoutingTable($context, $database)',
      parameters: {
        context: { $type: 'Map', _value: Object.fromEntries(Object.entries(context).map(([k, v]) => [k, { $type: 'String', _value: v }])) },
        database: { $type: 'String', _value: database },
      },
      accessMode: 'READ',
    });
    if (body.status >= 300 || !body.data || body.errors?.length) QueryApiTransport.fail(body);
    const row = body.data.values[0];
    if (!row) throw new GatewayError(Codes.DatabaseUnavailable, `Router ${router} returned no routing table.`);
    const [ttl, servers] = row as [TypedValue, TypedValue];
    const list = servers.$type === 'List' ? servers._value : [];
    const pick = (role: string) =>
      list.flatMap((s) => {
        if (s.$type !== 'Map') return [];
        const r = s._value.role;
        const a = s._value.addresses;
        if (r?.$type !== 'String' || r._value !== role || a?.$type !== 'List') return [];
        return a._value.flatMap((x) => (x.$type === 'String' ? [x._value] : []));
      });
    return { database, ttlSeconds: ttl.$type === 'Integer' ? Number(ttl._value) : 300, writers: pick('WRITE'), readers: pick('READ'), routers: pick('ROUTE') };
  }

  private static result(body: QueryApiBody, maxRows: number): RunResult | undefined {
    if (!body.data) return undefined;
    if (body.data.values.length > maxRows)
      throw new GatewayError(Codes.ResultTooLarge, `The result has more than ${maxRows} rows, the most this gateway returns.`);
    const error = body.errors?.[0];
    return {
      fields: body.data.fields,
      values: body.data.values,
      bookmarks: body.bookmarks ?? [],
      counters: body.counters ?? {},
      notifications: body.notifications ?? [],
      ...(error ? { error: { code: error.code, message: error.message } } : {}),
    };
  }

  /**
   * A statement of a Neo4j-held transaction whose answer was abandoned (too large, or past the
   * deadline) ends the transaction, as an error inside a transaction does in Neo4j: it is rolled
   * back (best effort) before the error goes to the caller.
   */
  private async endingOnOverrun<T>(member: MemberRef, database: string, id: string, affinity: string | undefined, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (err instanceof GatewayError && (err.code === Codes.ResultTooLarge || err.code === Codes.DeadlineExceeded)) {
        await this.rollbackAbandoned(member, database, id, affinity);
      }
      throw err;
    }
  }

  /**
   * Rolls back a transaction whose statement's answer was abandoned. While Neo4j is still writing
   * that answer it refuses the rollback (measured on 5.26: 500 UnknownError, or an answer without a
   * body), and the transaction would then live until its idle timeout: so it is asked again, a few
   * times with short waits, until it is gone (rolled back, or not found).
   */
  private async rollbackAbandoned(member: MemberRef, database: string, id: string, affinity: string | undefined): Promise<void> {
    for (let attempt = 0, wait = 20; attempt < ABANDONED_ROLLBACK_ATTEMPTS; attempt++, wait = Math.min(wait * 2, 200)) {
      try {
        await this.remoteTransactions.rollback(member, database, id, affinity);
        return;
      } catch (err) {
        if (err instanceof GatewayError && err.status === 404) return;
      }
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  readonly remoteTransactions: RemoteTransactions = {
    begin: async (member, req) => {
      const body = await this.post(
        member.cluster,
        member.address,
        req.database,
        {
          ...(req.statement ? { statement: req.statement, parameters: req.parameters ?? {} } : {}),
          ...sessionFields(req),
        },
        req.deadline,
        { suffix: '/tx', maxResultBytes: req.maxResultBytes },
      );
      if (body.status >= 300 || !body.transaction) QueryApiTransport.fail(body);
      return { id: body.transaction.id, expires: body.transaction.expires, affinity: body.affinity, result: QueryApiTransport.result(body, req.maxRows) };
    },
    run: async (member, database, id, affinity, statement, parameters, maxRows, bounds?: StatementBounds) => {
      const body = await this.endingOnOverrun(member, database, id, affinity, () =>
        this.post(member.cluster, member.address, database, { statement, parameters, includeCounters: true }, bounds?.deadline, {
          suffix: `/tx/${encodeURIComponent(id)}`,
          affinity,
          maxResultBytes: bounds?.maxResultBytes,
        }),
      );
      if (body.status >= 300 || !body.data) QueryApiTransport.fail(body);
      return { expires: body.transaction?.expires, result: QueryApiTransport.result(body, maxRows)! };
    },
    commit: async (member, database, id, affinity, last) => {
      const body = await this.endingOnOverrun(member, database, id, affinity, () =>
        this.post(
          member.cluster,
          member.address,
          database,
          last ? { statement: last.statement, parameters: last.parameters, includeCounters: true } : {},
          last?.deadline,
          { suffix: `/tx/${encodeURIComponent(id)}/commit`, affinity, maxResultBytes: last?.maxResultBytes },
        ),
      );
      if (body.status >= 300 || (body.errors?.length && !body.data)) QueryApiTransport.fail(body);
      return { bookmarks: body.bookmarks ?? [], result: last ? QueryApiTransport.result(body, last.maxRows) : undefined };
    },
    rollback: async (member, database, id, affinity) => {
      const body = await this.post(member.cluster, member.address, database, undefined, undefined, {
        suffix: `/tx/${encodeURIComponent(id)}`,
        method: 'DELETE',
        affinity,
      });
      if (body.status >= 300) QueryApiTransport.fail(body);
    },
  };

  async close(): Promise<void> {
    // nothing is kept open
  }
}
