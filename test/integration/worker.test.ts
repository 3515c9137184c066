/**
 * The edge (issue 6): the same gateway as a Cloudflare Worker, run inside workerd (wrangler dev,
 * offline) against the real sandbox Neo4j, over the Query API transport. The HTTP contract runs a
 * second time here: Query API compatibility (with Neo4j's own client), auth, errors, routing
 * headers, federation, two requests in a row on one isolate, and a region pin. And the hardened
 * defaults: a Worker without its topology or its fleet secret serves nothing but /health.
 */
import { pbkdf2Sync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { TopologyInput } from '../../src/config/schema.js';
import { KEYS, direct, sandboxTopology, sha256 } from '../support/fixture.js';
import { startWorker, type RunningWorker } from '../support/wrangler.js';

let worker: RunningWorker;
const GQL = `
  type P { id: ID!, name: String!, knows: [P!]! @cypher(statement: "MATCH (:GqlPerson {id: $parent.id})-[:KNOWS]->(f:GqlPerson) RETURN f ORDER BY f.id", database: "users") }
  type Query { count: Int! @cypher(statement: "MATCH (p:GqlPerson) RETURN count(p) AS c", database: "users"), people: [P!]! @cypher(statement: "MATCH (p:GqlPerson) RETURN p ORDER BY p.id", database: "users") }
`;

const SALTED_KEY = 'test-pbkdf2-key-0123456789';
const OPS_KEY = 'test-worker-ops-key-0123456789';
/** the Bolt connection a statement ran on, as Neo4j reports it (the statement finds itself by its text) */
const CONNECTION_PROBE = "SHOW TRANSACTIONS YIELD connectionId, currentQuery WHERE currentQuery CONTAINS 'n4gw-connection-probe' RETURN connectionId";

function topology(): TopologyInput {
  const t = sandboxTopology();
  t.composites = { users: { shards: ['users-us', 'users-eu'], shardKey: { strategy: 'lookup', map: { us: 'users-us', eu: 'users-eu' } } } };
  // the most PBKDF2 iterations Cloudflare's runtime allows
  t.apiKeys = [
    ...t.apiKeys!,
    {
      id: 'salted',
      hash: `pbkdf2-sha256:100000:w0rker:${pbkdf2Sync(SALTED_KEY, 'w0rker', 100_000, 32, 'sha256').toString('hex')}`,
      databases: ['users-us'],
      modes: ['READ'],
    },
    { id: 'ops', sha256: sha256(OPS_KEY), databases: ['users-us'], modes: ['READ'], allow: ['admin'] },
  ];
  return t;
}

/** a Worker with the test topology and its passwords, plus `vars` */
function startTestWorker(vars: Record<string, string>): Promise<RunningWorker> {
  const { password } = inject('sandbox');
  return startWorker({ GATEWAY_CONFIG: JSON.stringify(topology()), NEO4J_PASSWORD_C_US: password, NEO4J_PASSWORD_C_EU: password, ...vars });
}

/** a Query API request to the Worker at `url` */
async function queryAt(url: string, db: string, body: unknown, headers: Record<string, string> = {}, key: string | null = KEYS.admin) {
  const res = await fetch(`${url}/db/${db}/query/v2`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: Record<string, unknown> & { errors?: { code: string; message: string }[]; data?: { fields: string[]; values: unknown[][] }; bookmarks?: string[] } =
    {};
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    // asserted on text
  }
  return { status: res.status, headers: res.headers, body: json, text };
}

const q = (db: string, body: unknown, headers: Record<string, string> = {}, key: string | null = KEYS.admin) => queryAt(worker.url, db, body, headers, key);

beforeAll(async () => {
  worker = await startTestWorker({ GATEWAY_GRAPHQL_SCHEMA: GQL });
}, 120_000);
afterAll(async () => {
  await worker?.stop();
});

describe('inside workerd', () => {
  it('runs as a Worker', async () => {
    const health = (await (await fetch(`${worker.url}/health`)).json()) as { runtime: string };
    expect(health.runtime).toBe('worker');
  });

  it('answers the Query API like Neo4j itself (plain and typed)', async () => {
    const statement =
      "RETURN 1 AS i, 1.5 AS f, 'x' AS s, [1, null] AS l, date('2020-01-02') AS d, point({x: 1, y: 2}) AS p, datetime('2020-06-02T03:04:05[Europe/Berlin]') AS z";
    for (const accept of ['application/json', 'application/vnd.neo4j.query']) {
      const [a, b] = await Promise.all([q('users-us', { statement }, { accept }), direct('us', { statement }, { accept })]);
      expect(a.status, a.text).toBe(202);
      expect(a.headers.get('content-type')).toBe(b.headers.get('content-type'));
      expect(a.body.data).toEqual(b.body.data);
    }
  });

  it('two requests in a row on one isolate, writes then reads with bookmarks', async () => {
    const marker = `w-${Date.now()}`;
    const w = await q('users-eu', { statement: 'CREATE (n:WorkerTest {m: $m}) RETURN n.m AS m', parameters: { m: marker } });
    expect(w.status, w.text).toBe(202);
    const r = await q('users-eu', {
      statement: 'MATCH (n:WorkerTest {m: $m}) RETURN count(n) AS c',
      parameters: { m: marker },
      accessMode: 'READ',
      bookmarks: w.body.bookmarks,
    });
    expect(r.status, r.text).toBe(202);
    expect(r.body.data!.values).toEqual([[1]]);
    const again = await q('users-eu', { statement: 'RETURN 2 AS x', accessMode: 'READ' });
    expect(again.body.data!.values).toEqual([[2]]);
  });

  it('routing headers name member, role and region; the table stays in the isolate', async () => {
    const { instances } = inject('sandbox');
    await q('users-us', { statement: 'RETURN 1', accessMode: 'READ' });
    const r = await q('users-us', { statement: 'RETURN 1', accessMode: 'READ' });
    expect(r.headers.get('x-gateway-route')).toBe(`users-us=127.0.0.1:${instances.us!.bolt};READ;us-west`);
    expect(r.headers.get('x-gateway-cache')).toBe('memory');
  });

  it('metrics accumulate across requests on the isolate', async () => {
    const read = async () => {
      const text = await (await fetch(`${worker.url}/metrics`, { headers: { authorization: `Bearer ${KEYS.admin}` } })).text();
      return [...text.matchAll(/^gateway_http_requests_total\{method="POST",route="\/db\/:db\/query\/v2",status="202"\} (\d+)$/gm)].reduce(
        (n, m) => n + Number(m[1]),
        0,
      );
    };
    const before = await read();
    await q('users-us', { statement: 'RETURN 1', accessMode: 'READ' });
    await q('users-us', { statement: 'RETURN 1', accessMode: 'READ' });
    expect(await read()).toBe(before + 2);
  });

  it('a request pinned to a region, and an unknown region', async () => {
    const pinned = await q('users-eu', { statement: 'RETURN 1', accessMode: 'READ' }, { 'x-neo4j-region': 'eu' });
    expect(pinned.headers.get('x-gateway-route')).toMatch(/;READ;eu$/);
    const bad = await q('users-eu', { statement: 'RETURN 1' }, { 'x-neo4j-region': 'mars' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors![0]!.code).toBe('Neo.ClientError.Gateway.UnknownRegion');
  });

  it('auth and errors: 401, 403, malformed JSON, syntax error, unknown database, oversized body', async () => {
    expect((await q('users-us', { statement: 'RETURN 1' }, {}, null)).status).toBe(401);
    expect((await q('users-us', { statement: 'RETURN 1' }, {}, 'wrong')).status).toBe(401);
    expect((await q('users-eu', { statement: 'RETURN 1' }, {}, KEYS.usOnly)).status).toBe(403);
    // a salted (PBKDF2) key hash verifies inside workerd
    expect((await q('users-us', { statement: 'RETURN 1', accessMode: 'READ' }, {}, SALTED_KEY)).status).toBe(202);
    expect((await q('users-us', { statement: 'RETURN 1', accessMode: 'READ' }, {}, `${SALTED_KEY}x`)).status).toBe(401);
    const malformed = await q('users-us', '{"statement":');
    expect(malformed.status).toBe(400);
    expect(malformed.body.errors![0]!.code).toBe('Neo.ClientError.Request.Invalid');
    const syntax = await q('users-us', { statement: 'RETURN 1 +' });
    expect(syntax.body.errors![0]!.code).toBe('Neo.ClientError.Statement.SyntaxError');
    expect((await q('nope', { statement: 'RETURN 1' })).status).toBe(404);
    const big = await q('users-us', { statement: 'RETURN $x', parameters: { x: 'a'.repeat(1024 * 1024 + 1) } });
    expect(big.status).toBe(413);
    expect(JSON.stringify(big.body) + syntax.text).not.toContain(inject('sandbox').password);
  });

  it('federates a composite with the Cypher grammar loaded in workerd', async () => {
    const res = await q('users', { statement: 'UNWIND graph.names() AS g CALL { USE graph.byName(g) RETURN 1 AS one } RETURN count(*) AS shards' });
    expect(res.status, res.text).toBe(202);
    expect(res.body.data!.values).toEqual([[2]]);
    expect(res.headers.get('x-gateway-route')!.split(', ')).toHaveLength(2);
  });

  it("Neo4j's own Query API client works against the Worker, managed transactions included", async () => {
    const neo4j = (await import(inject('wrapperBundle'))).default;
    const wrapper = neo4j.wrapper(worker.url, neo4j.auth.bearer(KEYS.admin));
    const marker = `wtx-${Date.now()}`;
    try {
      const { records } = await wrapper.executeQuery('RETURN $x * 2 AS y', { x: 21 }, { database: 'users-us' });
      expect(Number(records[0].get('y'))).toBe(42);
      const session = wrapper.session({ database: 'users-us' });
      try {
        await session.executeWrite(async (tx: { run(q: string, p: object): Promise<unknown> }) => {
          await tx.run('CREATE (:WorkerTx {m: $m})', { m: marker });
          await tx.run('CREATE (:WorkerTx {m: $m})', { m: marker });
        });
        await expect(
          session.executeWrite(async (tx: { run(q: string, p: object): Promise<unknown> }) => {
            await tx.run('CREATE (:WorkerTx {m: $m})', { m: marker });
            throw new Error('rolled back');
          }),
        ).rejects.toThrow('rolled back');
        const count = await session.executeRead(async (tx: { run(q: string, p: object): Promise<{ records: { get(k: string): unknown }[] }> }) =>
          (await tx.run('MATCH (n:WorkerTx {m: $m}) RETURN count(n) AS c', { m: marker })).records[0]!.get('c'),
        );
        expect(Number(count)).toBe(2);
      } finally {
        await session.close();
      }
    } finally {
      await wrapper.close();
    }
  });

  it('serves GraphQL (federated, nested batching) from the Worker', async () => {
    for (const [shard, ids] of [
      ['users-us', ['wu1', 'wu2']],
      ['users-eu', ['we1']],
    ] as const) {
      const r = await q(shard, {
        statement:
          'MATCH (p:GqlPerson) DETACH DELETE p WITH count(*) AS gone UNWIND $ids AS id CREATE (:GqlPerson {id: id, name: toUpper(id)}) WITH collect(1) AS made MATCH (a:GqlPerson), (b:GqlPerson) WHERE a.id < b.id CREATE (a)-[:KNOWS]->(b) RETURN count(*) AS n',
        parameters: { ids },
      });
      expect(r.status, r.text).toBe(202);
    }
    const res = await fetch(`${worker.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEYS.admin}` },
      body: JSON.stringify({ query: '{ count people { id knows { name } } }' }),
    });
    const body = (await res.json()) as { data: { count: number; people: { id: string; knows: { name: string }[] }[] } };
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.data.count).toBe(3);
    expect(body.data.people.find((p) => p.id === 'wu1')!.knows).toEqual([{ name: 'WU2' }]);
  });

  it('a forged or foreign transaction id is not found', async () => {
    const begin = await fetch(`${worker.url}/db/users-us/query/v2/tx`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.admin}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(begin.status).toBe(202);
    const { transaction } = (await begin.json()) as { transaction: { id: string } };
    const other = await fetch(`${worker.url}/db/users-us/query/v2/tx/${transaction.id}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.usOnly}`, 'content-type': 'application/json' },
      body: '{"statement":"RETURN 1"}',
    });
    expect(other.status).toBe(404);
    const forged = transaction.id.slice(0, -4) + 'AAAA';
    const f = await fetch(`${worker.url}/db/users-us/query/v2/tx/${forged}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.admin}`, 'content-type': 'application/json' },
      body: '{"statement":"RETURN 1"}',
    });
    expect(f.status).toBe(404);
    const rollback = await fetch(`${worker.url}/db/users-us/query/v2/tx/${transaction.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${KEYS.admin}` },
    });
    expect(rollback.status).toBe(200);
  });
});

describe('inside workerd, Bolt over WebSocket and a shared Redis', () => {
  let bolt: RunningWorker;
  beforeAll(async () => {
    bolt = await startTestWorker({ GATEWAY_TRANSPORT: 'bolt', GATEWAY_REDIS_URL: inject('redisUrl') });
  }, 120_000);
  afterAll(async () => {
    await bolt?.stop();
  });

  const qb = (db: string, body: unknown, headers: Record<string, string> = {}) => queryAt(bolt.url, db, body, headers);

  it('reads, writes and reads its writes over Bolt/WebSocket, request after request on one isolate', async () => {
    const marker = `bolt-${Date.now()}`;
    for (let i = 0; i < 3; i++) {
      const r = await qb('users-us', { statement: 'RETURN $i AS i', parameters: { i }, accessMode: 'READ' });
      expect(r.status).toBe(202);
      expect(r.body.data!.values).toEqual([[i]]);
    }
    const w = await qb('users-us', { statement: 'CREATE (n:BoltWs {m: $m}) RETURN n.m AS m', parameters: { m: marker } });
    expect(w.status).toBe(202);
    const r = await qb('users-us', {
      statement: 'MATCH (n:BoltWs {m: $m}) RETURN count(n) AS c',
      parameters: { m: marker },
      accessMode: 'READ',
      bookmarks: w.body.bookmarks,
    });
    expect(r.body.data!.values).toEqual([[1]]);
  });

  it('takes routing tables from the shared Redis the Node fleet fills', async () => {
    // the Node gateways of the other test files wrote this key space; a cold isolate finds tables there
    const r = await qb('users-eu', { statement: 'RETURN 1 AS x', accessMode: 'READ' });
    expect(r.status).toBe(202);
    expect(['redis', 'discovery', 'memory']).toContain(r.headers.get('x-gateway-cache'));
    const { Redis } = await import('ioredis');
    const client = new Redis(inject('redisUrl'));
    try {
      expect(await client.exists('n4gw:rt:c-eu:neo4j')).toBe(1);
    } finally {
      client.disconnect();
    }
  });

  it('connects per request: each request runs on a new Bolt connection', async () => {
    const ids: unknown[] = [];
    for (let i = 0; i < 2; i++) {
      const r = await qb('users-us', { statement: CONNECTION_PROBE, accessMode: 'READ' }, { authorization: `Bearer ${OPS_KEY}` });
      expect(r.status).toBe(202);
      ids.push(r.body.data!.values[0]![0]);
    }
    expect(new Set(ids).size).toBe(2);
  });

  it('explicit transactions are refused with the Bolt transport (they would outlive the request)', async () => {
    const res = await fetch(`${bolt.url}/db/users-us/query/v2/tx`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.admin}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(501);
  });
});

describe('inside workerd, Bolt connections kept by a Durable Object (bolt-pooled)', () => {
  let pooled: RunningWorker;
  beforeAll(async () => {
    // one object per member, so that consecutive requests must meet the same pool
    pooled = await startTestWorker({ GATEWAY_TRANSPORT: 'bolt-pooled', GATEWAY_BOLT_POOL_OBJECTS: '1' });
  }, 120_000);
  afterAll(async () => {
    await pooled?.stop();
  });

  const qp = (db: string, body: unknown, key = KEYS.admin) => queryAt(pooled.url, db, body, {}, key);

  it('runs request after request on the same Bolt connection, kept between requests', async () => {
    const ids: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await qp('users-us', { statement: CONNECTION_PROBE, accessMode: 'READ' }, OPS_KEY);
      expect(r.status, JSON.stringify(r.body)).toBe(202);
      ids.push(r.body.data!.values[0]![0]);
    }
    expect(ids[0]).toMatch(/^bolt-/);
    expect(new Set(ids).size).toBe(1);
  });

  it('reads its writes, answers federated reads, and carries explicit transactions over the Query API', async () => {
    const marker = `pooled-${Date.now()}`;
    const w = await qp('users-us', { statement: 'CREATE (n:BoltPooled {m: $m}) RETURN n.m AS m', parameters: { m: marker } });
    expect(w.status).toBe(202);
    const r = await qp('users-us', {
      statement: 'MATCH (n:BoltPooled {m: $m}) RETURN count(n) AS c',
      parameters: { m: marker },
      accessMode: 'READ',
      bookmarks: w.body.bookmarks,
    });
    expect(r.body.data!.values).toEqual([[1]]);
    const both = await qp('users', {
      statement: 'UNWIND graph.names() AS g CALL { USE graph.byName(g) RETURN 1 AS one } RETURN count(*) AS shards',
      accessMode: 'READ',
    });
    expect(both.status, JSON.stringify(both.body)).toBe(202);
    expect(both.body.data!.values).toEqual([[2]]);
    // an explicit transaction is held by Neo4j, as with the Query API transport
    const begin = await fetch(`${pooled.url}/db/users-us/query/v2/tx`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ statement: 'CREATE (n:BoltPooled {m: $m, tx: true}) RETURN 1 AS x', parameters: { m: marker } }),
    });
    expect(begin.status).toBe(202);
    const { transaction } = (await begin.json()) as { transaction: { id: string } };
    const commit = await fetch(`${pooled.url}/db/users-us/query/v2/tx/${transaction.id}/commit`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.admin}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(commit.status).toBe(202);
    const { bookmarks } = (await commit.json()) as { bookmarks: string[] };
    const after = await qp('users-us', {
      statement: 'MATCH (n:BoltPooled {m: $m}) RETURN count(n) AS c',
      parameters: { m: marker },
      accessMode: 'READ',
      bookmarks,
    });
    expect(after.body.data!.values).toEqual([[2]]);
  });

  it('refuses a result larger than the pool carries (Workers RPC), instead of failing the call, and serves on', async () => {
    // about 25 MB of typed JSON: within the default result limit (32 MiB), past the pool's 15 MiB
    const big = await qp('users-us', { statement: 'RETURN [i IN range(1, 700000) | i] AS l', accessMode: 'READ' });
    expect(big.status).toBe(400);
    expect(big.body.errors![0]!.code).toBe('Neo.ClientError.Gateway.ResultTooLarge');
    expect(big.body.errors![0]!.message).toContain("the most a Worker's Bolt pool carries");
    const next = await qp('users-us', { statement: 'RETURN 1 AS x', accessMode: 'READ' });
    expect(next.body.data!.values).toEqual([[1]]);
  });

  it("passes Neo4j's errors through the pool as Neo4j gives them", async () => {
    // refused when run (an error thrown across the pool's RPC), and failing while rows stream (a result that carries it)
    for (const statement of ['RETURN 1 AS x SKIP -1', 'UNWIND [1, 0] AS d RETURN 1 / d AS x']) {
      const [a, b] = await Promise.all([qp('users-us', { statement, accessMode: 'READ' }), direct('us', { statement })]);
      expect(a.status, statement).toBe(b.status);
      expect(a.body.errors?.map((e) => e.code)).toEqual((b.body as { errors: { code: string }[] }).errors.map((e) => e.code));
      expect(a.body.errors![0]!.code).toMatch(/^Neo\.ClientError\.Statement\./);
    }
  });
});

describe('inside workerd, a Worker that is not fully configured serves nothing but /health', () => {
  const DEMO_KEY = 'demo-key-do-not-use-in-production';
  const refusals = async (url: string) => {
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    expect(((await health.json()) as { runtime: string }).runtime).toBe('worker');
    const answers: string[] = [];
    for (const [method, path, body] of [
      ['GET', '/', undefined],
      ['POST', '/db/users-us/query/v2', '{"statement": "RETURN 1"}'],
      ['POST', '/db/users-us/query/v2/tx', '{}'],
      ['GET', '/topology', undefined],
      ['GET', '/metrics', undefined],
      ['GET', '/ready', undefined],
      ['POST', '/graphql', '{"query": "{ __typename }"}'],
    ] as const) {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: { authorization: `Bearer ${DEMO_KEY}`, 'content-type': 'application/json' },
        ...(body ? { body } : {}),
      });
      const text = await res.text();
      expect(res.status, `${method} ${path}: ${text}`).toBe(500);
      expect(res.headers.get('content-type')).toBe('application/json');
      const err = (JSON.parse(text) as { errors: { code: string; message: string }[] }).errors[0]!;
      expect(err.code).toBe('Neo.DatabaseError.General.UnknownError');
      answers.push(err.message);
    }
    return answers;
  };

  it('without GATEWAY_CONFIG: no bundled sample topology, no demo key', async () => {
    const w = await startWorker({});
    try {
      for (const message of await refusals(w.url)) expect(message).toMatch(/^Gateway configuration is invalid: \$: GATEWAY_CONFIG is not set/);
    } finally {
      await w.stop();
    }
  }, 120_000);

  it('without the fleet secret (and with other problems): every problem named, no value echoed', async () => {
    const { password } = inject('sandbox');
    const t = topology();
    t.http = { trustedProxies: ['proxy.internal'] };
    t.apiKeys = [...t.apiKeys!, { id: 'slow', hash: `pbkdf2-sha256:600000:s:${'0'.repeat(64)}`, databases: ['*'] }];
    const w = await startWorker({
      GATEWAY_CONFIG: JSON.stringify(t),
      NEO4J_PASSWORD_C_US: password,
      NEO4J_PASSWORD_C_EU: password,
      GATEWAY_SECRET: '',
      GATEWAY_TRANSPORT: 'bolt-pool',
      GATEWAY_BOLT_POOL_OBJECTS: '0',
    });
    try {
      for (const message of await refusals(w.url)) {
        // a misspelt transport is refused, not replaced by the default
        expect(message).toContain('$: GATEWAY_TRANSPORT must be one of query-api, bolt, bolt-pooled');
        expect(message).toContain('$: GATEWAY_BOLT_POOL_OBJECTS must be a whole number from 1 to 64');
        expect(message).toContain(
          '$.secrets.fleetSecretEnv: the fleet secret GATEWAY_SECRET is not set; it is required because explicit transactions are held by Neo4j',
        );
        expect(message).toContain('$.http.trustedProxies[0]: must be an IPv4 or IPv6 address');
        expect(message).toMatch(/\$\.apiKeys\[\d+\]\.hash: Workers derive PBKDF2 with at most 100000 iterations/);
        expect(message).not.toContain(password);
      }
    } finally {
      await w.stop();
    }
  }, 120_000);
});
