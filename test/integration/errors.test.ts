/**
 * Bad input (issue 2): each case answers a specific status with {"errors":[{code,message}]},
 * never crashes, hangs or leaks a secret. The gateway keeps serving afterwards.
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { RunningGateway } from '../../src/adapters/node/server.js';
import { KEYS, query, sandboxCommand, sandboxTopology, startTestGateway } from '../support/fixture.js';

let gw: RunningGateway;

/**
 * POSTs a body in chunks with no declared length (transfer-encoding: chunked), as a streaming
 * client does; `abortAfter` destroys the request after that many chunks (a client going away
 * mid-body). Resolves with the answer, or undefined when there is none.
 */
function postChunked(
  url: string,
  chunks: Uint8Array[],
  opts: { abortAfter?: number } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string } | undefined> {
  return new Promise((resolve) => {
    const req = httpRequest(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEYS.admin}`, 'transfer-encoding': 'chunked' },
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }));
    });
    // the gateway may answer (413) and close before the client has written everything
    req.on('error', () => resolve(undefined));
    let i = 0;
    const writeNext = () => {
      if (opts.abortAfter !== undefined && i === opts.abortAfter) {
        req.destroy();
        setTimeout(() => resolve(undefined), 50);
        return;
      }
      if (i === chunks.length) return void req.end();
      const ok = req.write(chunks[i++]);
      if (ok) setImmediate(writeNext);
      else req.once('drain', writeNext);
    };
    writeNext();
  });
}

beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(async () => {
  await gw?.stop();
});

function expectError(res: Awaited<ReturnType<typeof query>>, status: number, code: string | RegExp) {
  expect(res.status, res.text).toBe(status);
  expect(res.body.errors, res.text).toHaveLength(1);
  const e = res.body.errors![0]!;
  if (typeof code === 'string') expect(e.code).toBe(code);
  else expect(e.code).toMatch(code);
  expect(typeof e.message).toBe('string');
  expect(e.message.length).toBeGreaterThan(5);
  // never a stack trace, never the Neo4j password
  expect(res.text).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/);
  expect(res.text).not.toContain(inject('sandbox').password);
}

describe('bad input', () => {
  it('malformed JSON is a 400 Request.Invalid', async () => {
    expectError(await query(gw, 'users-us', null, { raw: '{"statement": "RETURN 1",' }), 400, 'Neo.ClientError.Request.Invalid');
  });

  it('a body that is not an object is a 400', async () => {
    expectError(await query(gw, 'users-us', null, { raw: '[1,2]' }), 400, 'Neo.ClientError.Request.Invalid');
  });

  it('missing statement is a 400', async () => {
    expectError(await query(gw, 'users-us', { parameters: {} }), 400, 'Neo.ClientError.Request.Invalid');
  });

  it.each([
    ['statement', { statement: 5 }],
    ['parameters', { statement: 'RETURN 1', parameters: [1] }],
    ['bookmarks', { statement: 'RETURN 1', bookmarks: 'x' }],
    ['accessMode', { statement: 'RETURN 1', accessMode: 'SOMETIMES' }],
    ['includeCounters', { statement: 'RETURN 1', includeCounters: 'yes' }],
    ['unknown field', { statement: 'RETURN 1', statments: 'typo' }],
  ])('wrong type: %s is a 400', async (_name, body) => {
    expectError(await query(gw, 'users-us', body), 400, 'Neo.ClientError.Request.Invalid');
  });

  it('a typed-JSON parameter that is not typed is a 400', async () => {
    const res = await query(gw, 'users-us', { statement: 'RETURN $x', parameters: { x: 1 } }, { headers: { 'content-type': 'application/vnd.neo4j.query' } });
    expectError(res, 400, /^Neo\.ClientError\.Request\./);
  });

  it('an unsupported Content-Type is a 415', async () => {
    expectError(await query(gw, 'users-us', { statement: 'RETURN 1' }, { headers: { 'content-type': 'text/xml' } }), 415, 'Neo.ClientError.Request.Invalid');
  });

  it('an Accept the gateway cannot answer is a 406', async () => {
    expectError(await query(gw, 'users-us', { statement: 'RETURN 1' }, { headers: { accept: 'text/html' } }), 406, 'Neo.ClientError.Request.Invalid');
  });

  it('an unknown database is a 404 DatabaseNotFound', async () => {
    expectError(await query(gw, 'nope', { statement: 'RETURN 1' }), 404, 'Neo.ClientError.Database.DatabaseNotFound');
  });

  it('a body over 1 MiB is a 413', async () => {
    const big = JSON.stringify({ statement: 'RETURN $x', parameters: { x: 'a'.repeat(1024 * 1024 + 10) } });
    expectError(await query(gw, 'users-us', null, { raw: big }), 413, 'Neo.ClientError.Gateway.PayloadTooLarge');
  });

  it('a body without a declared length is held to the limit as it is read: 413 past 1 MiB', async () => {
    const chunk = new TextEncoder().encode('a'.repeat(64 * 1024));
    const chunks = [new TextEncoder().encode('{"statement": "RETURN $x", "parameters": {"x": "'), ...Array.from({ length: 20 }, () => chunk)];
    const res = await postChunked(`${gw.url}/db/users-us/query/v2`, chunks);
    expect(res?.status, res?.text).toBe(413);
    expect(JSON.parse(res!.text).errors[0].code).toBe('Neo.ClientError.Gateway.PayloadTooLarge');
    expect(res!.headers.connection).toBe('close');
  });

  it('a body read in chunks is decoded as Request.text() decodes it (byte order mark dropped, characters split across chunks)', async () => {
    const text = JSON.stringify({ statement: 'RETURN $x AS x', parameters: { x: 'é€😀 ünïcödé' } });
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(text)]);
    // one byte per chunk around the multi-byte characters: every character is split
    const chunks = [bytes.slice(0, 40), ...Array.from(bytes.slice(40, 70), (b) => new Uint8Array([b])), bytes.slice(70)];
    const res = await postChunked(`${gw.url}/db/users-us/query/v2`, chunks);
    expect(res?.status, res?.text).toBe(202);
    expect(JSON.parse(res!.text).data.values).toEqual([['é€😀 ünïcödé']]);
  });

  it('a client that goes away in the middle of its body leaves the gateway serving', async () => {
    const chunks = Array.from({ length: 10 }, () => new TextEncoder().encode('{"statement": "RETURN 1", '.padEnd(1000, ' ')));
    for (let i = 0; i < 5; i++) expect(await postChunked(`${gw.url}/db/users-us/query/v2`, chunks, { abortAfter: 3 })).toBeUndefined();
    const after = await query(gw, 'users-us', { statement: 'RETURN 1 AS x' });
    expect(after.status).toBe(202);
    expect(after.body.data?.values).toEqual([[1]]);
  });

  it("statements leave the process's stack traces as they were (the driver builds each Result without one)", async () => {
    const before = Error.stackTraceLimit;
    expect(before).toBeGreaterThan(0);
    // a shard statement (collected), one that fails in Neo4j, and a composite one (streamed)
    expect((await query(gw, 'users-us', { statement: 'RETURN 1 AS x' })).status).toBe(202);
    expect((await query(gw, 'users-us', { statement: 'UNWIND [1, 0] AS x RETURN 1 / x AS y' })).body.errors?.[0]?.code).toBe(
      'Neo.ClientError.Statement.ArithmeticError',
    );
    expect((await query(gw, 'users', { statement: 'UNWIND range(1, 3) AS x RETURN x' })).status).toBe(202);
    expect(Error.stackTraceLimit).toBe(before);
    expect(new Error('probe').stack).toMatch(/\n\s+at /);
  });

  it('a Cypher syntax error passes through with Neo4j code', async () => {
    const res = await query(gw, 'users-us', { statement: 'RETURN 1 +' });
    expectError(res, 400, 'Neo.ClientError.Statement.SyntaxError');
    expect(res.body.errors![0]!.message).toContain('Invalid input');
  });

  it('a runtime error while streaming answers 202 with data and errors, like Neo4j', async () => {
    const res = await query(gw, 'users-us', { statement: 'UNWIND [1, 0] AS x RETURN 1 / x AS y' });
    expect(res.status).toBe(202);
    expect(res.body.errors?.[0]?.code).toBe('Neo.ClientError.Statement.ArithmeticError');
    expect(res.body.data?.fields).toEqual(['y']);
  });

  it('a write in READ mode is refused by Neo4j', async () => {
    expectError(await query(gw, 'users-us', { statement: 'CREATE (:ShouldNotExist)', accessMode: 'READ' }), 400, 'Neo.ClientError.Statement.AccessMode');
  });

  it('an unknown region header is a 400', async () => {
    expectError(
      await query(gw, 'users-us', { statement: 'RETURN 1' }, { headers: { 'x-neo4j-region': 'mars' } }),
      400,
      'Neo.ClientError.Gateway.UnknownRegion',
    );
  });

  it('an unknown route is a 404 with a Neo4j-style body', async () => {
    const res = await fetch(`${gw.url}/nowhere`);
    expect(res.status).toBe(404);
    const body = (await res.json()) as { errors: { code: string }[] };
    expect(body.errors[0]!.code).toMatch(/^Neo\.ClientError\./);
  });

  it('a forged gateway bookmark is a 400', async () => {
    expectError(await query(gw, 'users-us', { statement: 'RETURN 1', bookmarks: ['n4gw1:!!!notbase64'] }), 400, 'Neo.ClientError.Transaction.InvalidBookmark');
  });

  it('still answers after all of the above', async () => {
    const res = await query(gw, 'users-us', { statement: 'RETURN 1 AS x' });
    expect(res.status).toBe(202);
    expect(res.body.data?.values).toEqual([[1]]);
  });
});

describe('auth', () => {
  it('no key is a 401', async () => {
    const res = await query(gw, 'users-us', { statement: 'RETURN 1' }, { key: null });
    expectError(res, 401, 'Neo.ClientError.Security.Unauthorized');
    expect(res.headers.get('www-authenticate')).toMatch(/Bearer/);
  });

  it('a wrong key is a 401', async () => {
    expectError(await query(gw, 'users-us', { statement: 'RETURN 1' }, { key: 'not-a-key' }), 401, 'Neo.ClientError.Security.Unauthorized');
  });

  it('a key on a database it may not touch is a 403', async () => {
    expectError(await query(gw, 'users-eu', { statement: 'RETURN 1' }, { key: KEYS.usOnly }), 403, 'Neo.ClientError.Security.Forbidden');
    const ok = await query(gw, 'users-us', { statement: 'RETURN 1' }, { key: KEYS.usOnly });
    expect(ok.status).toBe(202);
  });

  it('a read-only key may not write', async () => {
    expectError(await query(gw, 'users-us', { statement: 'RETURN 1' }, { key: KEYS.reader }), 403, 'Neo.ClientError.Security.Forbidden');
    const ok = await query(gw, 'users-us', { statement: 'RETURN 1', accessMode: 'READ' }, { key: KEYS.reader });
    expect(ok.status).toBe(202);
  });

  it('accepts the key as base64 bearer and as basic-auth password (what Query API clients send)', async () => {
    const asBase64 = await query(gw, 'users-us', { statement: 'RETURN 1' }, { key: null, headers: { authorization: `Bearer ${btoa(KEYS.admin)}` } });
    expect(asBase64.status).toBe(202);
    const asBasic = await query(gw, 'users-us', { statement: 'RETURN 1' }, { key: null, headers: { authorization: `Basic ${btoa(`admin:${KEYS.admin}`)}` } });
    expect(asBasic.status).toBe(202);
    const wrongBasic = await query(gw, 'users-us', { statement: 'RETURN 1' }, { key: null, headers: { authorization: `Basic ${btoa('admin:nope')}` } });
    expect(wrongBasic.status).toBe(401);
  });

  it('/health and /ready need no key', async () => {
    expect((await fetch(`${gw.url}/health`)).status).toBe(200);
    expect((await fetch(`${gw.url}/ready`)).status).toBe(200);
  });
});

describe('limits', () => {
  it('a result over limits.maxRows is an error, never a silent cut (shard and composite)', async () => {
    const t = sandboxTopology();
    t.limits = { requestDeadlineMs: 10000, maxBodyBytes: 1048576, maxRows: 5, queryTimeoutMs: 10000, transactionIdleMs: 30000 };
    const g = await startTestGateway({ topology: t, redis: false });
    try {
      expectError(await query(g, 'users-us', { statement: 'UNWIND range(1, 10) AS x RETURN x' }), 400, 'Neo.ClientError.Gateway.ResultTooLarge');
      expect((await query(g, 'users-us', { statement: 'UNWIND range(1, 5) AS x RETURN x' })).body.data!.values).toHaveLength(5);
      // each shard returns 3 rows (within the limit), the merged answer has 6
      for (const shard of ['users-us', 'users-eu']) {
        expect(
          (await query(g, shard, { statement: 'MATCH (n:MaxRowsProbe) DELETE n WITH count(*) AS gone UNWIND range(1, 3) AS i CREATE (:MaxRowsProbe {i: i})' }))
            .status,
        ).toBe(202);
      }
      expectError(await query(g, 'users', { statement: 'MATCH (n:MaxRowsProbe) RETURN n.i AS i' }), 400, 'Neo.ClientError.Gateway.ResultTooLarge');
      // a statement that reads no graph data runs once: 4 rows, within the limit
      expect((await query(g, 'users', { statement: 'UNWIND range(1, 4) AS x RETURN x' })).body.data!.values).toHaveLength(4);
      for (const shard of ['users-us', 'users-eu']) await query(g, shard, { statement: 'MATCH (n:MaxRowsProbe) DELETE n' });
    } finally {
      await g.stop();
    }
  });

  it('a statement past the request deadline is cut off: 504, no hang, and the gateway serves on', async () => {
    const t = sandboxTopology();
    t.limits = { requestDeadlineMs: 500, maxBodyBytes: 1048576, maxRows: 1000, queryTimeoutMs: 60000, transactionIdleMs: 30000 };
    const g = await startTestGateway({ topology: t, redis: false });
    try {
      await query(g, 'users-us', { statement: 'RETURN 1' }); // routing table and pool warm
      const started = Date.now();
      const res = await query(g, 'users-us', { statement: 'UNWIND range(1, 200000000) AS x WITH x WHERE x = -1 RETURN count(*) AS c', accessMode: 'READ' });
      expectError(res, 504, 'Neo.TransientError.Gateway.DeadlineExceeded');
      expect(Date.now() - started).toBeLessThan(3000);
      expect((await query(g, 'users-us', { statement: 'RETURN 2 AS x' })).body.data!.values).toEqual([[2]]);
    } finally {
      await g.stop();
    }
  });

  it('an idle explicit transaction is rolled back and forgotten', async () => {
    const t = sandboxTopology();
    t.limits = { requestDeadlineMs: 10000, maxBodyBytes: 1048576, maxRows: 1000, queryTimeoutMs: 10000, transactionIdleMs: 300 };
    const g = await startTestGateway({ topology: t, redis: false });
    try {
      const marker = `idle-${Date.now()}`;
      const begin = await fetch(`${g.url}/db/users-us/query/v2/tx`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEYS.admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({ statement: 'CREATE (:IdleTx {m: $m})', parameters: { m: marker } }),
      });
      const { transaction } = (await begin.json()) as { transaction: { id: string } };
      await new Promise((r) => setTimeout(r, 800));
      const late = await fetch(`${g.url}/db/users-us/query/v2/tx/${transaction.id}/commit`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEYS.admin}`, 'content-type': 'application/json' },
        body: '{}',
      });
      expect(late.status).toBe(404);
      const count = await query(g, 'users-us', { statement: 'MATCH (n:IdleTx {m: $m}) RETURN count(n) AS c', parameters: { m: marker } });
      expect(count.body.data!.values).toEqual([[0]]);
    } finally {
      await g.stop();
    }
  });

  it('one connection pool per cluster member for the whole process, never one per request', async () => {
    for (let i = 0; i < 10; i++) {
      await query(gw, i % 2 ? 'users-us' : 'users-eu', { statement: 'RETURN 1', accessMode: i % 3 ? 'READ' : 'WRITE' });
    }
    // two members (us, eu): routers and data path share each member's pool
    expect(gw.gateway.transport.pools).toBe(2);
  });
});

describe('Neo4j unavailable', () => {
  it('a cluster nobody listens on is a 503, quickly, and names no secret', async () => {
    const t = sandboxTopology();
    t.clusters['c-us']!.routers = ['neo4j://127.0.0.1:1'];
    t.limits = { requestDeadlineMs: 5000, maxBodyBytes: 1048576, maxRows: 1000, queryTimeoutMs: 5000, transactionIdleMs: 30000 };
    const dead = await startTestGateway({ topology: t, redis: false });
    try {
      const started = Date.now();
      const res = await query(dead, 'users-us', { statement: 'RETURN 1' });
      expectError(res, 503, 'Neo.TransientError.General.DatabaseUnavailable');
      expect(Date.now() - started).toBeLessThan(10_000);
      const ready = await fetch(`${dead.url}/ready`);
      expect(ready.status).toBe(503);
    } finally {
      await dead.stop();
    }
  });

  it('a stopped Neo4j member is a 503 while down, and served again once it is back', async () => {
    const t = sandboxTopology();
    t.limits = { requestDeadlineMs: 3000, maxBodyBytes: 1048576, maxRows: 1000, queryTimeoutMs: 5000, transactionIdleMs: 30000 };
    const g = await startTestGateway({ topology: t, redis: false });
    try {
      expect((await query(g, 'users-eu', { statement: 'RETURN 1' })).status).toBe(202);
      await sandboxCommand({ cmd: 'stop', name: 'eu' });
      const down = await query(g, 'users-eu', { statement: 'RETURN 1' });
      expectError(down, 503, /^Neo\.TransientError\./);
      // the other shard is unaffected
      expect((await query(g, 'users-us', { statement: 'RETURN 1' })).status).toBe(202);
      await sandboxCommand({ cmd: 'start', name: 'eu' });
      let back = down;
      for (let i = 0; i < 40 && back.status !== 202; i++) {
        await new Promise((r) => setTimeout(r, 250));
        back = await query(g, 'users-eu', { statement: 'RETURN 1 AS x' });
      }
      expect(back.status, back.text).toBe(202);
    } finally {
      await g.stop();
    }
  });
});
