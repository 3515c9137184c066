/**
 * Explicit transactions of the Query API (/db/{db}/query/v2/tx...): held by this instance when the
 * transport can keep a connection (Bolt on Node), or by Neo4j with signed ids (HTTP transports).
 */
import type { Context, Hono } from 'hono';
import { Codes, GatewayError } from '../../errors/index.js';
import { memberRegion } from '../../topology/index.js';
import { bookmarksFor, encodeBookmarks, mergeBookmarks } from '../../routing/bookmarks.js';
import type { Route } from '../../routing/types.js';
import type { AccessMode, RunResult, TransactionHandle } from '../../transport/types.js';
import { ApiKeyAuth, type Principal } from '../auth.js';
import { encodeQueryResponse, type QueryRequest } from '../codec.js';
import { TxTokens } from '../tx-token.js';
import { AFFINITY_HEADER, type GatewayEnv, type Kit } from '../kit.js';
import { effectiveLimits } from '../../limits/effective.js';

type Env = GatewayEnv;

export function registerTransactions(app: Hono<Env>, kit: Kit): void {
  const { deps, topology, transport, routing, transactions, gate, now, instanceId, limit, authenticate, responseKind, readBody, singleShard, requestRegion, decodeClientBookmarks, respond, recordShard } = kit;

  /** a statement inside a transaction passes the statement gate like any other ('' stays '') */
  const gated = async (principal: Principal, shard: string, statement: string, mode: AccessMode, impersonates = false): Promise<string> =>
    statement.trim() === '' ? statement : (await gate.forShard(principal, shard, statement, { mode, impersonates })).text;

  /** the bounds of one statement of `principal` in a transaction: its key's limits, the request deadline */
  const bounds = (c: Context<Env>, principal: Principal) => {
    const l = effectiveLimits(principal.limits, topology.limits);
    return { maxRows: l.maxRows, maxResultBytes: l.maxResultBytes, deadline: c.get('started') + topology.limits.requestDeadlineMs };
  };

  /** what beginning a transaction needs, wherever it is held: the request, its shard and member */
  const opening = async (c: Context<Env>) => {
    const db = c.req.param('db') ?? '';
    const req: QueryRequest = await readBody(c, false);
    const shard = singleShard(db);
    const principal = c.get('principal');
    ApiKeyAuth.authorize(principal, db, req.accessMode);
    req.statement = await gated(principal, shard, req.statement, req.accessMode, req.impersonatedUser !== undefined);
    const { region, pinned } = requestRegion(c);
    const sent = decodeClientBookmarks(req.bookmarks);
    const route = await routing.route({ shard, mode: req.accessMode, region, pinned });
    return { db, req, shard, principal, sent, route, database: topology.shards[shard]!.database, timeoutMs: Math.min(req.maxExecutionTime ?? topology.limits.queryTimeoutMs, topology.limits.queryTimeoutMs) };
  };

  // ---- explicit transactions ----
  /** a response inside a transaction: the statement's result (if any), no bookmarks, the transaction */
  const txBody = (result: RunResult | undefined, typed: boolean, includeCounters: boolean, transaction: { id: string; expires: string }): string =>
    result ? encodeQueryResponse({ result, bookmarks: null, includeCounters, typed, extra: { transaction } }) : JSON.stringify({ transaction });

  const txResponse = (c: Context, tx: { id: string; expiresAt: number }, result: RunResult | undefined, includeCounters: boolean, typed: boolean, routes: Route[]) => {
    const res = respond(c, 202, txBody(result, typed, includeCounters, { id: tx.id, expires: new Date(tx.expiresAt).toISOString() }), typed, routes);
    res.headers.set(AFFINITY_HEADER, instanceId);
    return res;
  };

  // ---- explicit transactions held by Neo4j (HTTP transports: Workers) ----
  const remote = !transport.begin && transport.remoteTransactions ? transport.remoteTransactions : undefined;
  // the adapters refuse to start without the fleet secret where ids are signed; never a constant key
  if (remote && !deps.txSecret) throw new GatewayError(Codes.Internal, 'Explicit transactions held by Neo4j need the fleet secret (GATEWAY_SECRET) to sign their ids.');
  const txTokens = remote && deps.txSecret ? new TxTokens(deps.txSecret) : undefined;
  if (remote && txTokens) {
    app.post('/db/:db/query/v2/tx', limit, authenticate, async (c) => {
      const typed = responseKind(c);
      const { db, req, shard, principal, sent, route, database: dbName, timeoutMs } = await opening(c);
      const b = bounds(c, principal);
      const begun = await remote.begin(route.member, {
        database: dbName,
        accessMode: req.accessMode,
        bookmarks: bookmarksFor(sent, shard),
        maxRows: b.maxRows,
        maxResultBytes: b.maxResultBytes,
        deadline: b.deadline,
        ...(req.statement.trim() !== '' ? { statement: req.statement, parameters: req.parameters } : {}),
        timeoutMs,
        ...(req.impersonatedUser !== undefined ? { impersonatedUser: req.impersonatedUser } : {}),
      });
      const id = await txTokens.sign({ c: route.member.cluster, a: route.member.address, d: dbName, s: shard, g: db, i: begun.id, ...(begun.affinity ? { f: begun.affinity } : {}), p: principal.id });
      recordShard(route, 'begin', 1);
      return respond(c, 202, txBody(begun.result, typed, req.includeCounters, { id, expires: begun.expires }), typed, [route]);
    });
    const txOf = async (c: Context<Env>) => {
      const db = c.req.param('db') ?? '';
      const tx = await txTokens.verify(c.req.param('id') ?? '', c.get('principal').id, db);
      const member = { cluster: tx.c, address: tx.a };
      const route: Route = { shard: tx.s, member, role: 'WRITE', region: memberRegion(topology, tx.c, tx.a), cache: 'memory' };
      return { tx, member, route, id: c.req.param('id') ?? '' };
    };
    app.post('/db/:db/query/v2/tx/:id', limit, authenticate, async (c) => {
      const typed = responseKind(c);
      const req = await readBody(c, true);
      const { tx, member, route, id } = await txOf(c);
      const principal = c.get('principal');
      const statement = await gated(principal, tx.s, req.statement, principal.modes.has('WRITE') ? 'WRITE' : 'READ');
      const b = bounds(c, principal);
      const out = await remote.run(member, tx.d, tx.i, tx.f, statement, req.parameters, b.maxRows, { maxResultBytes: b.maxResultBytes, deadline: b.deadline });
      return respond(c, 202, txBody(out.result, typed, req.includeCounters, { id, expires: out.expires ?? new Date(now() + topology.limits.transactionIdleMs).toISOString() }), typed, [route]);
    });
    app.post('/db/:db/query/v2/tx/:id/commit', limit, authenticate, async (c) => {
      const typed = responseKind(c);
      const req = await readBody(c, false);
      const { tx, member, route } = await txOf(c);
      const principal = c.get('principal');
      const statement = await gated(principal, tx.s, req.statement, principal.modes.has('WRITE') ? 'WRITE' : 'READ');
      const out = await remote.commit(member, tx.d, tx.i, tx.f, statement.trim() !== '' ? { statement, parameters: req.parameters, ...bounds(c, principal) } : undefined);
      const bookmarks = encodeBookmarks({ [tx.s]: out.bookmarks });
      const body = out.result ? encodeQueryResponse({ result: out.result, bookmarks, includeCounters: req.includeCounters, typed }) : JSON.stringify({ bookmarks });
      return respond(c, 202, body, typed, [route]);
    });
    app.delete('/db/:db/query/v2/tx/:id', authenticate, async (c) => {
      const { tx, member } = await txOf(c);
      await remote.rollback(member, tx.d, tx.i, tx.f);
      return c.body(null, 200);
    });
  }

  app.post('/db/:db/query/v2/tx', limit, authenticate, async (c) => {
    const typed = responseKind(c);
    if (!transport.begin) {
      throw new GatewayError(Codes.TransactionsNotSupported, 'Explicit transactions are not available on this runtime; send each statement to /db/{db}/query/v2.');
    }
    // a slot first (429 past the key's or the instance's cap): nothing is opened on Neo4j without one
    const caller = c.get('principal');
    const slot = transactions.reserve(caller.id, effectiveLimits(caller.limits, topology.limits).maxOpenTransactions, topology.limits.maxOpenTransactions);
    let o: Awaited<ReturnType<typeof opening>>;
    let handle: TransactionHandle;
    try {
      o = await opening(c);
      handle = await transport.begin(o.route.member, {
        database: o.database,
        accessMode: o.req.accessMode,
        bookmarks: bookmarksFor(o.sent, o.shard),
        timeoutMs: o.timeoutMs,
        ...(o.req.impersonatedUser !== undefined ? { impersonatedUser: o.req.impersonatedUser } : {}),
      });
    } catch (err) {
      slot.cancel();
      throw err;
    }
    const { db, req, shard, principal, sent, route } = o;
    const tx = transactions.add({ principal: principal.id, database: db, shard, mode: req.accessMode, handle, route, sentBookmarks: sent.shards, slot });
    recordShard(route, 'begin', 1);
    let result: RunResult | undefined;
    if (req.statement.trim() !== '') {
      tx.busy = true;
      try {
        const { maxRows, ...rest } = bounds(c, principal);
        result = await handle.run(req.statement, req.parameters, maxRows, rest);
      } catch (err) {
        transactions.remove(tx);
        await handle.rollback();
        throw err;
      } finally {
        transactions.release(tx);
      }
    }
    return txResponse(c, tx, result, req.includeCounters, typed, [route]);
  });

  app.post('/db/:db/query/v2/tx/:id', limit, authenticate, async (c) => {
    const db = c.req.param('db');
    const typed = responseKind(c);
    const req = await readBody(c, true);
    const tx = transactions.take(c.req.param('id'), c.get('principal').id, db);
    let statement: string;
    try {
      statement = await gated(c.get('principal'), tx.shard, req.statement, tx.mode);
    } catch (err) {
      // refused before anything ran: the transaction stays open, as it was
      transactions.release(tx);
      throw err;
    }
    try {
      const { maxRows, ...rest } = bounds(c, c.get('principal'));
      const result = await tx.handle.run(statement, req.parameters, maxRows, rest);
      if (result.error) {
        transactions.remove(tx);
        await tx.handle.rollback();
      }
      return txResponse(c, tx, result, req.includeCounters, typed, [tx.route]);
    } catch (err) {
      // Neo4j rolls a transaction back on any error
      transactions.remove(tx);
      await tx.handle.rollback();
      throw err;
    } finally {
      transactions.release(tx);
    }
  });

  app.post('/db/:db/query/v2/tx/:id/commit', limit, authenticate, async (c) => {
    const db = c.req.param('db');
    const typed = responseKind(c);
    const req = await readBody(c, false);
    const tx = transactions.take(c.req.param('id'), c.get('principal').id, db);
    let statement: string;
    try {
      statement = await gated(c.get('principal'), tx.shard, req.statement, tx.mode);
    } catch (err) {
      transactions.release(tx);
      throw err;
    }
    transactions.remove(tx);
    let result: RunResult | undefined;
    try {
      if (statement.trim() !== '') {
        const { maxRows, ...rest } = bounds(c, c.get('principal'));
        result = await tx.handle.run(statement, req.parameters, maxRows, rest);
      }
    } catch (err) {
      await tx.handle.rollback();
      throw err;
    }
    if (result?.error) {
      await tx.handle.rollback();
      return respond(c, 202, encodeQueryResponse({ result, bookmarks: null, includeCounters: req.includeCounters, typed }), typed, [tx.route]);
    }
    const bm = await tx.handle.commit();
    const bookmarks = encodeBookmarks(mergeBookmarks(tx.sentBookmarks, { [tx.shard]: bm }));
    const body = result
      ? encodeQueryResponse({ result, bookmarks, includeCounters: req.includeCounters, typed })
      : JSON.stringify({ bookmarks });
    return respond(c, 202, body, typed, [tx.route]);
  });

  app.delete('/db/:db/query/v2/tx/:id', authenticate, async (c) => {
    const db = c.req.param('db') ?? '';
    const tx = transactions.take(c.req.param('id') ?? '', c.get('principal').id, db);
    transactions.remove(tx);
    await tx.handle.rollback();
    return c.body(null, 200);
  });

}
