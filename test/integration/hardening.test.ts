/**
 * Hardened defaults (issue 9, "Build" item 4, and the JSON nesting limit), each attack through the
 * public interfaces against real Neo4j and a real redis-server: deep JSON, the fleet secret,
 * forged routing tables and invalidations in Redis, the discovery document behind proxies,
 * /topology per key, salted API-key hashes.
 */
import { createHash, pbkdf2Sync, randomBytes } from 'node:crypto';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { startNodeGateway, type RunningGateway } from '../../src/adapters/node/server.js';
import type { RedisCache } from '../../src/cache/redis.js';
import { Sealer } from '../../src/cache/redis-seal.js';
import { ConfigError, parseTopology } from '../../src/config/load.js';
import { FLEET_SECRET, KEYS, query, sandboxEnv, sandboxTopology, sha256, startTestGateway } from '../support/fixture.js';

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
    const post = (body: string) =>
      fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${KEYS.admin}` }, body });
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

  it('GraphQL documents nested past the limit are refused before they are parsed (they overflowed the stack: 500)', async () => {
    const post = (query: string) =>
      fetch(`${gw.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${KEYS.admin}` },
        body: JSON.stringify({ query }),
      });
    for (const query of [
      '{ ' + 'echo { '.repeat(3000) + 'x' + ' }'.repeat(3000) + ' }',
      '{ __schema { types { ' + 'ofType { '.repeat(3000) + 'name' + ' }'.repeat(3000) + ' } } }',
      `{ echo(x: ${nest(17)}) }`,
    ]) {
      const res = await post(query);
      expect(res.status).toBe(400);
      const body = (await res.json()) as { errors: { message: string; extensions: { code: string } }[] };
      expect(body.errors[0]!.extensions.code).toBe('Neo.ClientError.Request.Invalid');
      expect(body.errors[0]!.message).toContain('deeper than 16');
    }
    // introspection as GraphiQL asks it stays within the limit; braces in strings and comments are not nesting
    const ok = await post('{ __schema { queryType { fields { name type { kind ofType { kind ofType { name } } } } } } } # {{{{{{{{{{{{{{{{{{');
    expect(ok.status).toBe(200);
    expect(JSON.stringify(await ok.json())).toContain('"echo"');
    await healthy(gw);
  });

  it('GraphQL GET variables and extensions are held to the same limit', async () => {
    const get = (params: Record<string, string>) =>
      fetch(`${gw.url}/graphql?${new URLSearchParams(params).toString()}`, {
        headers: { accept: 'application/graphql-response+json', authorization: `Bearer ${KEYS.admin}` },
      });
    const query = 'query($x: [[[Int]]]) { echo(x: $x) }';
    for (const params of [
      { query, variables: `{"x": ${nest(1000)}}` },
      { query, variables: `{"x": ${nest(3)}}`, extensions: `{"e": ${nest(17)}}` },
    ]) {
      const deep = await get(params);
      expect(deep.status).toBe(400);
      const body = (await deep.json()) as { errors: { code: string; message: string }[] };
      expect(body.errors[0]!.code).toBe('Neo.ClientError.Request.Invalid');
      expect(body.errors[0]!.message).toContain('deeper than');
    }
    const ok = await get({ query, variables: `{"x": ${nest(3)}}` });
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
          {
            id: 'salted',
            hash: `sha256:${s1}:${createHash('sha256')
              .update(s1 + keys.salted)
              .digest('hex')}`,
            databases: ['users-us'],
          },
          {
            id: 'pbkdf2',
            hash: `pbkdf2-sha256:100000:${s2}:${pbkdf2Sync(keys.pbkdf2, s2, 100_000, 32, 'sha256').toString('hex')}`,
            databases: ['*'],
            modes: ['READ'],
          },
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

  it('PBKDF2 is paid once per credential, not per request, wrong keys included', async () => {
    // the gateway runs in this process: count the derivations it asks crypto.subtle for
    const derive = vi.spyOn(crypto.subtle, 'deriveBits');
    try {
      const fresh = `pbkdf2-${salt()}`;
      const s3 = salt();
      const g = await gateway({
        topology: sandboxTopology({
          apiKeys: [{ id: 'pbkdf2', hash: `pbkdf2-sha256:100000:${s3}:${pbkdf2Sync(fresh, s3, 100_000, 32, 'sha256').toString('hex')}`, databases: ['*'] }],
        }),
        redis: false,
      });
      await Promise.all(
        Array.from({ length: 5 }, async () =>
          expect((await query(g, 'users-us', { statement: 'RETURN 1', accessMode: 'READ' }, { key: fresh })).status).toBe(202),
        ),
      );
      for (let i = 0; i < 15; i++) expect((await query(g, 'users-us', { statement: 'RETURN 1', accessMode: 'READ' }, { key: fresh })).status).toBe(202);
      // 20 requests, 5 of them concurrent first ones: one derivation
      expect(derive).toHaveBeenCalledTimes(1);
      // a wrong key repeated: refused from memory after its first check; another wrong key pays once
      for (let i = 0; i < 3; i++)
        expect((await query(g, 'users-us', { statement: 'RETURN 1', accessMode: 'READ' }, { key: `${fresh}-wrong` })).status).toBe(401);
      expect(derive).toHaveBeenCalledTimes(2);
      expect((await query(g, 'users-us', { statement: 'RETURN 1', accessMode: 'READ' }, { key: `${fresh}-other` })).status).toBe(401);
      expect(derive).toHaveBeenCalledTimes(3);
      await healthy(g);
    } finally {
      derive.mockRestore();
    }
  });
});

describe('unknown keys cannot spend the CPU', () => {
  it('at most limits.maxKeyVerifications new credentials are checked at once; the rest get 429, and a known key still answers', async () => {
    const salt = randomBytes(12).toString('base64url');
    const key = `pbkdf2-${salt}`;
    const t = sandboxTopology({
      apiKeys: [{ id: 'pbkdf2', hash: `pbkdf2-sha256:100000:${salt}:${pbkdf2Sync(key, salt, 100_000, 32, 'sha256').toString('hex')}`, databases: ['*'] }],
    });
    t.limits = { maxKeyVerifications: 2 } as NonNullable<typeof t.limits>;
    const g = await gateway({ topology: t, redis: false });
    expect((await query(g, 'users-us', { statement: 'RETURN 1', accessMode: 'READ' }, { key })).status).toBe(202);
    const answers = await Promise.all(
      Array.from({ length: 24 }, (_, i) => query(g, 'users-us', { statement: 'RETURN 1', accessMode: 'READ' }, { key: `wrong-${salt}-${i}` })),
    );
    const statuses = answers.map((a) => a.status);
    // every one is refused: 401 when it was checked, 429 when too many were being checked
    expect(
      statuses.every((s) => s === 401 || s === 429),
      statuses.join(','),
    ).toBe(true);
    expect(statuses.filter((s) => s === 401).length).toBeGreaterThanOrEqual(2);
    const limited = answers.find((a) => a.status === 429);
    expect(limited, statuses.join(',')).toBeDefined();
    expect(limited!.body.errors?.[0]?.code).toBe('Neo.ClientError.Security.AuthenticationRateLimit');
    expect(limited!.headers.get('retry-after')).toBe('1');
    // the known key is answered from memory meanwhile
    expect((await query(g, 'users-us', { statement: 'RETURN 1', accessMode: 'READ' }, { key })).status).toBe(202);
    // operators see the refusals by limit
    const metrics = await (await fetch(`${g.url}/metrics`, { headers: { authorization: `Bearer ${key}` } })).text();
    expect(metrics).toMatch(/^gateway_limit_refusals_total\{limit="key_verifications"\} [1-9]/m);
    await healthy(g);
  });
});

describe('fleet secret', () => {
  const start = (env: Record<string, string>, topology = sandboxTopology(), redis = true) =>
    startNodeGateway({ topology: parseTopology(topology), env, ...(redis ? { redisUrl: inject('redisUrl') } : {}), port: 0 });
  const passwords = () => ({ NEO4J_PASSWORD_C_US: inject('sandbox').password, NEO4J_PASSWORD_C_EU: inject('sandbox').password });

  it('with Redis configured, the gateway refuses to start without it, naming the variable and never the value', async () => {
    await expect(start(passwords())).rejects.toThrow(ConfigError);
    await expect(start(passwords())).rejects.toThrow(
      /\$\.secrets\.fleetSecretEnv: the fleet secret GATEWAY_SECRET is not set; it is required because Redis is configured/,
    );
    const short = 'too-short-secret-0123';
    const err = (await start({ ...passwords(), GATEWAY_SECRET: short }).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).not.toContain(short);
    // the variable the topology names
    await expect(start({ ...passwords(), GATEWAY_SECRET: FLEET_SECRET }, sandboxTopology({ secrets: { fleetSecretEnv: 'N4GW_FLEET' } }))).rejects.toThrow(
      /N4GW_FLEET is not set/,
    );
    const named = await start({ ...passwords(), N4GW_FLEET: FLEET_SECRET }, sandboxTopology({ secrets: { fleetSecretEnv: 'N4GW_FLEET' } }));
    started.push(named);
    expect((await query(named, 'users-us', { statement: 'RETURN 1', accessMode: 'READ' })).status).toBe(202);
  });

  it('without Redis (transactions held by this Node instance), none is needed', async () => {
    const g = await start(passwords(), sandboxTopology(), false);
    started.push(g);
    expect((await query(g, 'users-us', { statement: 'RETURN 1', accessMode: 'READ' })).status).toBe(202);
  });
});

describe('routing tables and invalidations in Redis are authenticated', () => {
  const PREFIX = `n4gw-hardening-${process.pid}:`;
  const KEY = `${PREFIX}rt:c-us:neo4j`;
  const topology = () => sandboxTopology({ cache: { keyPrefix: PREFIX } });
  let redis: Redis;
  let trap: Server;
  let trapped = 0;
  let trapAddress: string;

  beforeAll(async () => {
    redis = new Redis(inject('redisUrl'));
    // where a forged table sends traffic: a listener that counts who connects (and would get Neo4j credentials)
    trap = createServer((socket) => {
      trapped++;
      socket.destroy();
    });
    await new Promise<void>((r) => trap.listen(0, '127.0.0.1', r));
    trapAddress = `127.0.0.1:${(trap.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    const keys = await redis.keys(`${PREFIX}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await new Promise((r) => trap.close(r));
  });

  const forgedTable = () =>
    JSON.stringify({
      database: 'neo4j',
      ttlSeconds: 300,
      writers: [trapAddress],
      readers: [trapAddress],
      routers: [trapAddress],
      cluster: 'c-us',
      fetchedAt: Date.now(),
      expiresAt: Date.now() + 300_000,
      origin: 'discovery',
    });

  it('a forged, a tampered or a wrongly sealed table is ignored and rediscovered; a sealed one is used', async () => {
    const usMember = `127.0.0.1:${inject('sandbox').instances.us!.bolt}`;
    const attempts: [string, () => Promise<string>][] = [
      ['unsealed', async () => forgedTable()],
      ['sealed with another secret', () => new Sealer('not-the-fleet-secret-0123456789abcdef').seal(`value ${KEY}`, forgedTable())],
      [
        'a genuine table with its member changed',
        async () => {
          const genuine = await redis.get(KEY);
          expect(genuine, 'a gateway sealed a table before').toMatch(/^h1\./);
          return genuine!.replaceAll(usMember, trapAddress);
        },
      ],
    ];
    // a first gateway fills Redis with a genuine table
    const first = await gateway({ topology: topology() });
    expect((await query(first, 'users-us', { statement: 'RETURN 1', accessMode: 'READ' })).status).toBe(202);
    for (const [what, forge] of attempts) {
      await redis.set(KEY, await forge(), 'PX', 300_000);
      // a fresh instance (nothing in memory) looks in Redis first
      const g = await gateway({ topology: topology() });
      const r = await query(g, 'users-us', { statement: 'RETURN 1 AS one', accessMode: 'READ' });
      expect(r.status, `${what}: ${r.text}`).toBe(202);
      expect(r.headers.get('x-gateway-route'), what).toBe(`users-us=${usMember};READ;us-west`);
      expect(r.headers.get('x-gateway-cache'), what).toBe('discovery');
      // nothing went to the forged member (a retry after a failed connection would hide it in the headers)
      expect(trapped, what).toBe(0);
      const w = await query(g, 'users-us', { statement: 'RETURN 1 AS one' });
      expect(w.headers.get('x-gateway-route'), what).toBe(`users-us=${usMember};WRITE;us-west`);
      await healthy(g);
      // the rediscovered table replaced the forgery, sealed
      const stored = await redis.get(KEY);
      expect(stored).toMatch(/^h1\.[0-9a-f]{64}\./);
      expect(stored).not.toContain(trapAddress);
    }
    expect(trapped).toBe(0);
    // and a sealed table is taken from Redis as before
    const another = await gateway({ topology: topology() });
    expect((await query(another, 'users-us', { statement: 'RETURN 1', accessMode: 'READ' })).headers.get('x-gateway-cache')).toBe('redis');
  });

  it("forged invalidations are ignored; a fleet member's invalidation still works", async () => {
    const a = await gateway({ topology: topology() });
    const b = await gateway({ topology: topology() });
    expect((await query(a, 'users-us', { statement: 'RETURN 1', accessMode: 'READ' })).status).toBe(202);
    expect((await query(a, 'users-us', { statement: 'RETURN 1', accessMode: 'READ' })).headers.get('x-gateway-cache')).toBe('memory');
    const channel = `${PREFIX}routing-invalidations`;
    const message = JSON.stringify({ key: 'rt:c-us:neo4j', from: 'attacker' });
    const before = a.gateway.routing.invalidationsReceived;
    for (let i = 0; i < 5; i++) {
      await redis.publish(channel, message);
      await redis.publish(channel, await new Sealer('not-the-fleet-secret-0123456789abcdef').seal(`message ${channel}`, message));
      await redis.publish(channel, `h1.${'0'.repeat(64)}.${message}`);
    }
    await new Promise((r) => setTimeout(r, 300));
    const still = await query(a, 'users-us', { statement: 'RETURN 1', accessMode: 'READ' });
    expect(still.headers.get('x-gateway-cache')).toBe('memory');
    expect(a.gateway.routing.invalidationsReceived).toBe(before);
    // a genuine invalidation, published after the forged ones (so delivered after them), is applied
    await b.gateway.routing.invalidate('c-us', 'neo4j');
    for (let i = 0; i < 40 && a.gateway.routing.invalidationsReceived === before; i++) await new Promise((r) => setTimeout(r, 50));
    expect(a.gateway.routing.invalidationsReceived).toBe(before + 1);
    expect((await query(a, 'users-us', { statement: 'RETURN 1', accessMode: 'READ' })).headers.get('x-gateway-cache')).not.toBe('memory');
    expect((a.gateway.cache as RedisCache).rejected).toBeGreaterThanOrEqual(15);
  });
});

describe('discovery document', () => {
  const discover = async (g: { url: string }, headers: Record<string, string> = {}) => {
    const res = await fetch(`${g.url}/`, { headers: { accept: 'application/json', ...headers } });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    return ((await res.json()) as { query: string }).query;
  };
  const forwarded = { 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' };

  it("by default: the request's own URL; X-Forwarded-* from an untrusted peer are ignored", async () => {
    const g = await gateway({ redis: false });
    expect(await discover(g)).toBe(`${g.url}/db/{databaseName}/query/v2`);
    expect(await discover(g, forwarded)).toBe(`${g.url}/db/{databaseName}/query/v2`);
    // trusted proxies that do not include this peer
    const other = await gateway({ redis: false, topology: sandboxTopology({ http: { trustedProxies: ['10.0.0.0/8', 'fd00::/8', '127.0.0.2'] } }) });
    expect(await discover(other, forwarded)).toBe(`${other.url}/db/{databaseName}/query/v2`);
  });

  it('http.publicUrl wins over every header', async () => {
    const g = await gateway({
      redis: false,
      topology: sandboxTopology({ http: { publicUrl: 'https://graph.example.com/neo4j/', trustedProxies: ['127.0.0.1'] } }),
    });
    expect(await discover(g)).toBe('https://graph.example.com/neo4j/db/{databaseName}/query/v2');
    expect(await discover(g, forwarded)).toBe('https://graph.example.com/neo4j/db/{databaseName}/query/v2');
  });

  it('from a trusted proxy (by address or CIDR range) the forwarded host and scheme are used: the last value, when valid', async () => {
    for (const trusted of [['127.0.0.1'], ['127.0.0.0/8'], ['::ffff:127.0.0.0/104']]) {
      const g = await gateway({ redis: false, topology: sandboxTopology({ http: { trustedProxies: trusted } }) });
      expect(await discover(g, { 'x-forwarded-host': 'graph.example.com', 'x-forwarded-proto': 'https' })).toBe(
        'https://graph.example.com/db/{databaseName}/query/v2',
      );
      // a proxy that appends: the value it added is the last one
      expect(await discover(g, { 'x-forwarded-host': 'evil.example, graph.example.com:8443', 'x-forwarded-proto': 'javascript, http' })).toBe(
        'http://graph.example.com:8443/db/{databaseName}/query/v2',
      );
      // not a host, not a scheme: ignored
      const port = new URL(g.url).port;
      expect(await discover(g, { 'x-forwarded-host': 'evil.example/x?', 'x-forwarded-proto': 'javascript' })).toBe(
        `http://127.0.0.1:${port}/db/{databaseName}/query/v2`,
      );
    }
  });

  it('IPv6 peers: trusted by an IPv6 address or range, not by an unrelated one', async () => {
    for (const [trusted, honoured] of [
      [['::1'], true],
      [['::/127'], true],
      [['fd00::/8', '127.0.0.1'], false],
    ] as const) {
      const g = await startNodeGateway({
        topology: parseTopology(sandboxTopology({ http: { trustedProxies: [...trusted] } })),
        env: sandboxEnv(),
        host: '::1',
        port: 0,
      });
      started.push(g);
      expect(g.url).toMatch(/^http:\/\/\[::1\]:\d+$/);
      expect(await discover(g, forwarded)).toBe(honoured ? 'https://evil.example/db/{databaseName}/query/v2' : `${g.url}/db/{databaseName}/query/v2`);
    }
  });

  it('a bad trustedProxies entry is refused at start, naming it', async () => {
    await expect(gateway({ redis: false, topology: sandboxTopology({ http: { trustedProxies: ['127.0.0.1', 'proxy.internal'] } }) })).rejects.toThrow(
      /\$\.http\.trustedProxies\[1\]: must be an IPv4 or IPv6 address/,
    );
  });
});

describe('/topology per key', () => {
  const composite = 'test-composite-key-0123456789';
  let gw: RunningGateway;
  beforeAll(async () => {
    const t = sandboxTopology();
    t.apiKeys = [...t.apiKeys!, { id: 'composite', sha256: sha256(composite), databases: ['users'], modes: ['READ'] }];
    gw = await gateway({ topology: t, redis: false });
    // routing tables of both clusters in memory
    for (const db of ['users-us', 'users-eu']) expect((await query(gw, db, { statement: 'RETURN 1', accessMode: 'READ' })).status).toBe(202);
  });
  type Topo = {
    clusters: Record<string, { routingTables: { database: string }[]; members: { address: string }[] }>;
    shards: Record<string, unknown>;
    composites: Record<string, unknown>;
  };
  const topologyFor = async (key: string): Promise<Topo> => {
    const res = await fetch(`${gw.url}/topology`, { headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(200);
    return (await res.json()) as Topo;
  };

  it('a key for one shard sees that shard and its cluster only', async () => {
    const t = await topologyFor(KEYS.usOnly);
    expect(Object.keys(t.clusters)).toEqual(['c-us']);
    expect(Object.keys(t.shards)).toEqual(['users-us']);
    expect(t.composites).toEqual({});
    const text = JSON.stringify(t);
    expect(text).not.toContain('c-eu');
    expect(text).not.toContain(`:${inject('sandbox').instances.eu!.bolt}`);
  });

  it('a composite key sees the composite, its shards and their clusters; "*" sees all', async () => {
    const c = await topologyFor(composite);
    expect(Object.keys(c.clusters).sort()).toEqual(['c-eu', 'c-us']);
    expect(Object.keys(c.shards).sort()).toEqual(['users-eu', 'users-us']);
    expect(Object.keys(c.composites)).toEqual(['users']);
    const all = await topologyFor(KEYS.reader);
    expect(Object.keys(all.clusters).sort()).toEqual(['c-eu', 'c-us']);
    expect(all.clusters['c-us']!.routingTables.map((x) => x.database)).toEqual(['neo4j']);
    expect((await fetch(`${gw.url}/topology`)).status).toBe(401);
  });
});
