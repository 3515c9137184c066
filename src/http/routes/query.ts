/** POST /db/{db}/query/v2: one statement on a shard (routed) or a composite (federated). */
import type { Context, Hono } from 'hono';
import { Codes, GatewayError } from '../../errors/index.js';
import { resolveDatabase } from '../../topology/index.js';
import { bookmarksFor, encodeBookmarks, mergeBookmarks } from '../../routing/bookmarks.js';
import { ApiKeyAuth } from '../auth.js';
import { maxResultBytesFor, maxRowsFor } from '../../limits/effective.js';
import { encodeQueryResponse, type QueryRequest } from '../codec.js';
import { PARTIAL_HEADER, SHARD_KEY_HEADER, type GatewayEnv, type Kit } from '../kit.js';

type Env = GatewayEnv;

export function registerQuery(app: Hono<Env>, kit: Kit): void {
  const { topology, executor, federated, gate, metrics, limit, authenticate, responseKind, readBody, singleShard, requestRegion, decodeClientBookmarks, respond, recordShard } = kit;

  const runFederated = async (c: Context<Env>, db: string, req: QueryRequest, typed: boolean): Promise<Response> => {
    const principal = c.get('principal');
    ApiKeyAuth.authorize(principal, db, req.accessMode);
    const composite = topology.composites[db]!;
    await gate.forComposite(principal, composite.shards[0]!, req.statement, { mode: req.accessMode, impersonates: req.impersonatedUser !== undefined });
    const { region, pinned } = requestRegion(c);
    const sent = decodeClientBookmarks(req.bookmarks);
    const headerKey = c.req.header(SHARD_KEY_HEADER);
    const shardKey = headerKey !== undefined && headerKey !== '' ? headerKey : req.shardKey;
    const out = await federated.run({
      composite: db,
      statement: req.statement,
      parameters: req.parameters,
      accessMode: req.accessMode,
      bookmarks: sent,
      region,
      pinned,
      ...(shardKey !== undefined ? { shardKey } : {}),
      allowPartial: (c.req.header(PARTIAL_HEADER) ?? '').toLowerCase() === 'allow',
      deadline: c.get('started') + topology.limits.requestDeadlineMs,
      ...(topology.limits.shardDeadlineMs !== undefined ? { shardDeadline: c.get('started') + topology.limits.shardDeadlineMs } : {}),
      maxRows: maxRowsFor(principal, topology.limits),
      maxResultBytes: maxResultBytesFor(principal, topology.limits),
      timeoutMs: Math.min(req.maxExecutionTime ?? topology.limits.queryTimeoutMs, topology.limits.queryTimeoutMs),
      ...(req.impersonatedUser !== undefined ? { impersonatedUser: req.impersonatedUser } : {}),
    });
    const maxRows = maxRowsFor(principal, topology.limits);
    if (out.result.values.length > maxRows) {
      throw new GatewayError(Codes.ResultTooLarge, `The merged result has more than ${maxRows} rows, the most this gateway returns. Add a LIMIT.`);
    }
    for (const r of out.routes) recordShard(r, 'ok', 1);
    metrics.fanout.observe({ database: db }, out.width);
    const bookmarks = encodeBookmarks(mergeBookmarks(sent.shards, out.shardBookmarks));
    const extra = out.missing.length > 0 ? { gateway: { missingShards: out.missing } } : undefined;
    const res = respond(c, 202, encodeQueryResponse({ result: out.result, bookmarks, includeCounters: req.includeCounters, typed, ...(extra ? { extra } : {}) }), typed, out.routes);
    if (out.missing.length > 0) res.headers.set('x-gateway-missing-shards', out.missing.map((m) => m.shard).join(', '));
    return res;
  };

  app.post('/db/:db/query/v2', limit, authenticate, async (c) => {
    const db = c.req.param('db');
    const typed = responseKind(c);
    const req = await readBody(c, true);
    if (resolveDatabase(topology, db).kind === 'composite') return runFederated(c, db, req, typed);
    const shard = singleShard(db);
    const principal = c.get('principal');
    ApiKeyAuth.authorize(principal, db, req.accessMode);
    const { text } = await gate.forShard(principal, shard, req.statement, { mode: req.accessMode, impersonates: req.impersonatedUser !== undefined });
    const { region, pinned } = requestRegion(c);
    const sent = decodeClientBookmarks(req.bookmarks);
    const started = c.get('started');
    const { result, route, attempts } = await executor.run({
      shard,
      statement: text,
      parameters: req.parameters,
      accessMode: req.accessMode,
      bookmarks: bookmarksFor(sent, shard),
      region,
      pinned,
      maxRows: maxRowsFor(principal, topology.limits),
      maxResultBytes: maxResultBytesFor(principal, topology.limits),
      timeoutMs: Math.min(req.maxExecutionTime ?? topology.limits.queryTimeoutMs, topology.limits.queryTimeoutMs),
      ...(req.impersonatedUser !== undefined ? { impersonatedUser: req.impersonatedUser } : {}),
      deadline: started + topology.limits.requestDeadlineMs,
    });
    recordShard(route, 'ok', attempts);
    const bookmarks = encodeBookmarks(mergeBookmarks(sent.shards, { [shard]: result.bookmarks }));
    return respond(c, 202, encodeQueryResponse({ result, bookmarks, includeCounters: req.includeCounters, typed }), typed, [route]);
  });

}
