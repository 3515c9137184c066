/**
 * Explicit transactions of the Query API: begin (POST /tx), run (POST /tx/{id}), commit
 * (POST /tx/{id}/commit), roll back (DELETE /tx/{id}). Registered once over the runtime's
 * TransactionBackend (held here or by Neo4j); every statement passes the statement gate first,
 * and a refused statement leaves its transaction open, as it was.
 */
import type { Hono } from 'hono';
import { Codes, GatewayError } from '../../errors/index.js';
import { effectiveLimits } from '../../limits/effective.js';
import { bookmarksFor, encodeBookmarks } from '../../routing/bookmarks.js';
import { resolveDatabase } from '../../topology/index.js';
import type { AccessMode, RunResult } from '../../transport/types.js';
import { ApiKeyAuth, type Principal } from '../auth.js';
import { encodeQueryResponse } from '../codec.js';
import { AFFINITY_HEADER, touched, transactionMetadata, type GatewayContext, type GatewayEnv } from '../context.js';
import type { Guards } from '../middleware/guards.js';
import { respond } from '../respond.js';
import type { Services } from '../services.js';
import type { Bounds, HeldTransaction, Statement, TransactionBackend } from '../transactions/backend.js';

export function registerTransactions(app: Hono<GatewayEnv>, s: Services, g: Guards): void {
  const { topology, gate, router } = s;
  const backend: TransactionBackend | undefined = s.transactions;

  const available = (): TransactionBackend => {
    if (!backend)
      throw new GatewayError(
        Codes.TransactionsNotSupported,
        'Explicit transactions are not available on this runtime; send each statement to /db/{db}/query/v2.',
      );
    return backend;
  };

  /** a statement inside a transaction passes the statement gate like any other; none ('') is none */
  const gated = async (
    principal: Principal,
    shard: string,
    statement: string,
    mode: AccessMode,
    impersonates = false,
  ): Promise<Statement['statement'] | undefined> =>
    statement.trim() === '' ? undefined : (await gate.forShard(principal, shard, statement, { mode, impersonates })).text;

  /** the bounds of one statement of the request's key: its limits, the request deadline */
  const bounds = (c: GatewayContext): Bounds => {
    const l = effectiveLimits(c.get('principal').limits, topology.limits);
    return { maxRows: l.maxRows, maxResultBytes: l.maxResultBytes, deadline: c.get('request').started + topology.limits.requestDeadlineMs };
  };

  /** a response inside a transaction: the statement's result (if any), no bookmarks, the transaction */
  const txBody = (c: GatewayContext, result: RunResult | undefined, transaction: { id: string; expires: string }): string =>
    result
      ? encodeQueryResponse({ result, bookmarks: null, includeCounters: c.get('query').includeCounters, typed: c.get('typed'), extra: { transaction } })
      : JSON.stringify({ transaction });

  const affinity = (): Record<string, string> => (backend?.affinity !== undefined ? { [AFFINITY_HEADER]: backend.affinity } : {});

  /** the caller's transaction for this request, and a statement of the request gated for it; a refusal gives the transaction back */
  const takeWith = async (c: GatewayContext): Promise<{ held: HeldTransaction; statement: Statement | undefined }> => {
    const db = c.req.param('db') ?? '';
    c.get('request').database = db;
    const held = await available().take(c.req.param('id') ?? '', c.get('principal'), db);
    touched(c, [held.route]);
    try {
      const query = c.get('query');
      const text = await gated(c.get('principal'), held.shard, query.statement, held.mode);
      return { held, statement: text === undefined ? undefined : { statement: text, parameters: query.parameters } };
    } catch (err) {
      // refused before anything ran: the transaction stays open, as it was
      held.release();
      throw err;
    }
  };

  app.post('/db/:db/query/v2/tx', g.bodyLimit, g.authenticate, g.negotiate, g.queryBody(false), g.region, async (c) => {
    const tx = available();
    const db = c.req.param('db');
    c.get('request').database = db;
    const principal = c.get('principal');
    const begun = await tx.begin(principal, async () => {
      const target = resolveDatabase(topology, db);
      if (target.kind === 'composite') {
        throw new GatewayError(
          Codes.FederationNotSupported,
          `Explicit transactions on composite '${db}' are not supported; send auto-commit requests to /db/${db}/query/v2, or open the transaction on one shard (${target.shards.join(', ')}).`,
        );
      }
      const req = c.get('query');
      ApiKeyAuth.authorize(principal, db, req.accessMode);
      const first = await gated(principal, target.shard, req.statement, req.accessMode, req.impersonatedUser !== undefined);
      const { region, pinned } = c.get('region');
      const route = await router.route({ shard: target.shard, mode: req.accessMode, region, pinned });
      const sent = c.get('bookmarks');
      return {
        requested: db,
        shard: target.shard,
        database: topology.shards[target.shard]!.database,
        route,
        mode: req.accessMode,
        sent: sent.shards,
        bookmarks: bookmarksFor(sent, target.shard),
        first: first === undefined ? undefined : { statement: first, parameters: req.parameters },
        bounds: bounds(c),
        timeoutMs: Math.min(req.maxExecutionTime ?? topology.limits.queryTimeoutMs, topology.limits.queryTimeoutMs),
        impersonatedUser: req.impersonatedUser,
        metadata: transactionMetadata(c, s.instanceId),
      };
    });
    touched(c, [begun.route], 1, 'begin');
    return respond(c, txBody(c, begun.result, { id: begun.id, expires: begun.expires }), affinity());
  });

  app.post('/db/:db/query/v2/tx/:id', g.bodyLimit, g.authenticate, g.negotiate, g.queryBody(true), async (c) => {
    const { held, statement } = await takeWith(c);
    // a blank statement is refused by the body reader (requireStatement), so there is one here
    const out = await held.run(statement!, bounds(c));
    return respond(c, txBody(c, out.result, { id: c.req.param('id'), expires: out.expires }), affinity());
  });

  app.post('/db/:db/query/v2/tx/:id/commit', g.bodyLimit, g.authenticate, g.negotiate, g.queryBody(false), async (c) => {
    const { held, statement } = await takeWith(c);
    const out = await held.commit(statement, bounds(c));
    const bookmarks = out.bookmarks ? encodeBookmarks(out.bookmarks) : null;
    const includeCounters = c.get('query').includeCounters;
    const body = out.result ? encodeQueryResponse({ result: out.result, bookmarks, includeCounters, typed: c.get('typed') }) : JSON.stringify({ bookmarks });
    return respond(c, body);
  });

  app.delete('/db/:db/query/v2/tx/:id', g.authenticate, async (c) => {
    const db = c.req.param('db') ?? '';
    c.get('request').database = db;
    const held = await available().take(c.req.param('id') ?? '', c.get('principal'), db);
    touched(c, [held.route]);
    await held.rollback();
    return c.body(null, 200);
  });
}
