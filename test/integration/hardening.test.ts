/**
 * Hardened defaults (issue 9, "Build" item 4, and the JSON nesting limit), each attack through the
 * public interfaces against real Neo4j and a real redis-server: deep JSON, the fleet secret,
 * forged routing tables and invalidations in Redis, the discovery document behind proxies,
 * /topology per key, salted API-key hashes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../src/adapters/node/server.js';
import { KEYS, query, sandboxTopology, startTestGateway } from '../support/fixture.js';

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
