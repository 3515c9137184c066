/** POST /db/{db}/query/v2: one statement on a shard (routed) or a composite (federated). */
import type { Hono } from 'hono';
import { Codes, GatewayError } from '../../errors/index.js';
import { maxResultBytesFor, maxRowsFor } from '../../limits/effective.js';
import { bookmarksFor, encodeBookmarks, mergeBookmarks } from '../../routing/bookmarks.js';
import { resolveDatabase } from '../../topology/index.js';
import { ApiKeyAuth } from '../auth.js';
import { encodeQueryResponse } from '../codec.js';
import { PARTIAL_HEADER, SHARD_KEY_HEADER, touched, transactionMetadata, type GatewayContext, type GatewayEnv } from '../context.js';
import type { Guards } from '../middleware/guards.js';
import { respond } from '../respond.js';
import { streamedAnswer } from '../streamed-answer.js';
import type { FederatedRequest } from '../../federation/execute.js';
import type { Services } from '../services.js';

export function registerQuery(app: Hono<GatewayEnv>, s: Services, g: Guards): void {
  const { topology, executor, federated, gate, metrics } = s;
  const limits = topology.limits;

  const runFederated = async (c: GatewayContext, db: string): Promise<Response> => {
    const principal = c.get('principal');
    const req = c.get('query');
    const sent = c.get('bookmarks');
    const { region, pinned } = c.get('region');
    ApiKeyAuth.authorize(principal, db, req.accessMode);
    const composite = topology.composites[db]!;
    await gate.forComposite(principal, composite.shards[0]!, req.statement, { mode: req.accessMode, impersonates: req.impersonatedUser !== undefined });
    const headerKey = c.req.header(SHARD_KEY_HEADER);
    const shardKey = headerKey !== undefined && headerKey !== '' ? headerKey : req.shardKey;
    const started = c.get('request').started;
    const maxRows = maxRowsFor(principal, limits);
    const fedReq: FederatedRequest = {
      composite: db,
      statement: req.statement,
      parameters: req.parameters,
      accessMode: req.accessMode,
      bookmarks: sent,
      region,
      pinned,
      ...(shardKey !== undefined ? { shardKey } : {}),
      allowPartial: (c.req.header(PARTIAL_HEADER) ?? '').toLowerCase() === 'allow',
      deadline: started + limits.requestDeadlineMs,
      ...(limits.shardDeadlineMs !== undefined ? { shardDeadline: started + limits.shardDeadlineMs } : {}),
      maxRows,
      maxResultBytes: maxResultBytesFor(principal, limits),
      timeoutMs: Math.min(req.maxExecutionTime ?? limits.queryTimeoutMs, limits.queryTimeoutMs),
      metadata: transactionMetadata(c, s.instanceId),
      ...(req.impersonatedUser !== undefined ? { impersonatedUser: req.impersonatedUser } : {}),
    };
    // a statement that writes nothing and whose merge needs no shard's whole answer goes out as its rows arrive
    const answer = await federated.answer(fedReq);
    if ('stream' in answer) {
      const { stream } = answer;
      stream.routes.forEach((route, i) => touched(c, [route], stream.attempts[i]));
      metrics.fanout.observe({ database: db }, stream.width);
      return streamedAnswer(c, stream, {
        window: limits.streamAfterRows,
        maxRows,
        maxResultBytes: maxResultBytesFor(principal, limits),
        includeCounters: req.includeCounters,
        typed: c.get('typed'),
        sent: sent.shards,
        deadline: fedReq.deadline,
      });
    }
    const out = answer.result;
    if (out.result.values.length > maxRows) {
      throw new GatewayError(Codes.ResultTooLarge, `The merged result has more than ${maxRows} rows, the most this gateway returns. Add a LIMIT.`);
    }
    touched(c, out.routes);
    metrics.fanout.observe({ database: db }, out.width);
    const bookmarks = encodeBookmarks(mergeBookmarks(sent.shards, out.shardBookmarks));
    const extra = out.missing.length > 0 ? { gateway: { missingShards: out.missing } } : undefined;
    const body = encodeQueryResponse({
      result: out.result,
      bookmarks,
      includeCounters: req.includeCounters,
      typed: c.get('typed'),
      ...(extra ? { extra } : {}),
    });
    return respond(c, body, out.missing.length > 0 ? { 'x-gateway-missing-shards': out.missing.map((m) => m.shard).join(', ') } : {});
  };

  app.post('/db/:db/query/v2', g.bodyLimit, g.authenticate, g.negotiate, g.queryBody(true), g.region, async (c) => {
    const db = c.req.param('db');
    c.get('request').database = db;
    const target = resolveDatabase(topology, db);
    if (target.kind === 'composite') return runFederated(c, db);
    const principal = c.get('principal');
    const req = c.get('query');
    ApiKeyAuth.authorize(principal, db, req.accessMode);
    const { text } = await gate.forShard(principal, target.shard, req.statement, { mode: req.accessMode, impersonates: req.impersonatedUser !== undefined });
    const { region, pinned } = c.get('region');
    const sent = c.get('bookmarks');
    const { result, route, attempts } = await executor.run({
      shard: target.shard,
      statement: text,
      parameters: req.parameters,
      accessMode: req.accessMode,
      bookmarks: bookmarksFor(sent, target.shard),
      region,
      pinned,
      maxRows: maxRowsFor(principal, limits),
      maxResultBytes: maxResultBytesFor(principal, limits),
      timeoutMs: Math.min(req.maxExecutionTime ?? limits.queryTimeoutMs, limits.queryTimeoutMs),
      metadata: transactionMetadata(c, s.instanceId),
      ...(req.impersonatedUser !== undefined ? { impersonatedUser: req.impersonatedUser } : {}),
      deadline: c.get('request').started + limits.requestDeadlineMs,
    });
    touched(c, [route], attempts);
    const bookmarks = encodeBookmarks(mergeBookmarks(sent.shards, { [target.shard]: result.bookmarks }));
    return respond(c, encodeQueryResponse({ result, bookmarks, includeCounters: req.includeCounters, typed: c.get('typed') }));
  });
}
