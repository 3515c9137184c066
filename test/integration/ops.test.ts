/** Discovery, routing headers, region pins and the ops endpoints, over HTTP against real Neo4j + Redis. */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RunningGateway } from '../../src/adapters/node/server.js';
import { KEYS, query, sandboxTopology, startTestGateway } from '../support/fixture.js';

let gw: RunningGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(async () => {
  await gw?.stop();
});

describe('discovery document', () => {
  it('advertises the query endpoint at the address the client used', async () => {
    const res = await fetch(`${gw.url}/`, { headers: { accept: 'application/json' } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, string>;
    expect(body.query).toBe(`${gw.url}/db/{databaseName}/query/v2`);
    expect(Number.parseFloat(body.neo4j_version!)).toBeGreaterThanOrEqual(5);
  });

  it('names databases only to a valid key, and only those the key may use', async () => {
    const get = async (authorization?: string) => {
      const res = await fetch(`${gw.url}/`, { headers: { accept: 'application/json', ...(authorization ? { authorization } : {}) } });
      expect(res.status).toBe(200);
      return ((await res.json()) as { databases?: string[] }).databases;
    };
    expect(await get()).toBeUndefined();
    expect(await get('Bearer not-a-key-0123456789')).toBeUndefined();
    expect(await get(`Bearer ${KEYS.usOnly}`)).toEqual(['users-us']);
    expect([...(await get(`Bearer ${KEYS.admin}`))!].sort()).toEqual(['users', 'users-eu', 'users-us']);
  });
});

describe('routing headers', () => {
  it('names shard, member, role and region, and where the table came from', async () => {
    const { instances } = inject('sandbox');
    const first = await query(gw, 'users-eu', { statement: 'RETURN 1', accessMode: 'READ' });
    expect(first.status).toBe(202);
    expect(first.headers.get('x-gateway-route')).toBe(`users-eu=127.0.0.1:${instances.eu!.bolt};READ;eu`);
    expect(['discovery', 'redis']).toContain(first.headers.get('x-gateway-cache'));
    const second = await query(gw, 'users-eu', { statement: 'RETURN 1' });
    expect(second.headers.get('x-gateway-route')).toBe(`users-eu=127.0.0.1:${instances.eu!.bolt};WRITE;eu`);
    expect(second.headers.get('x-gateway-cache')).toBe('memory');
  });

  it('a second instance sharing Redis gets the table from Redis, not from discovery', async () => {
    await query(gw, 'users-us', { statement: 'RETURN 1' });
    const other = await startTestGateway();
    try {
      const res = await query(other, 'users-us', { statement: 'RETURN 1' });
      expect(res.headers.get('x-gateway-cache')).toBe('redis');
      expect(other.gateway.routing.discoveries).toBe(0);
    } finally {
      await other.stop();
    }
  });
});

describe('ops endpoints', () => {
  it('/health is up without a key', async () => {
    const res = await fetch(`${gw.url}/health`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { status: string }).status).toBe('up');
  });

  it('/ready checks every shard and the shared cache', async () => {
    const res = await fetch(`${gw.url}/ready`);
    const body = (await res.json()) as { status: string; sharedCache: string; shards: { shard: string; ok: boolean }[] };
    expect(res.status).toBe(200);
    expect(body.status).toBe('ready');
    expect(body.sharedCache).toBe('ok');
    expect(body.shards.map((s) => s.shard).sort()).toEqual(['users-eu', 'users-us']);
    expect(body.shards.every((s) => s.ok)).toBe(true);
  });

  it('/topology shows members, roles, regions, health and table age/source', async () => {
    await query(gw, 'users-us', { statement: 'RETURN 1' });
    const res = await fetch(`${gw.url}/topology`, { headers: { authorization: `Bearer ${KEYS.admin}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      clusters: Record<
        string,
        { members: { address: string; region: string; roles: string[]; healthy: boolean }[]; routingTables: { ageMs: number; source: string }[] }
      >;
    };
    const us = body.clusters['c-us']!;
    expect(us.members[0]).toMatchObject({ region: 'us-west', healthy: true });
    expect(us.members[0]!.roles).toEqual(expect.arrayContaining(['READ', 'WRITE']));
    expect(us.routingTables[0]!.ageMs).toBeGreaterThanOrEqual(0);
    expect(['discovery', 'redis']).toContain(us.routingTables[0]!.source);
    expect(JSON.stringify(body)).not.toContain(inject('sandbox').password);
  });

  it('/topology and /metrics need a key, unless listed in auth.publicEndpoints', async () => {
    expect((await fetch(`${gw.url}/topology`)).status).toBe(401);
    expect((await fetch(`${gw.url}/metrics`)).status).toBe(401);
    const t = sandboxTopology();
    t.auth = { disabled: false, publicEndpoints: ['metrics'] };
    const open = await startTestGateway({ topology: t, redis: false });
    try {
      expect((await fetch(`${open.url}/metrics`)).status).toBe(200);
      expect((await fetch(`${open.url}/topology`)).status).toBe(401);
    } finally {
      await open.stop();
    }
  });

  it('/metrics speaks Prometheus text and counts requests per shard', async () => {
    await query(gw, 'users-us', { statement: 'RETURN 1', accessMode: 'READ' });
    const res = await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${KEYS.admin}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toMatch(/^# TYPE gateway_http_requests_total counter$/m);
    expect(text).toMatch(/^gateway_shard_requests_total\{outcome="ok",region="us-west",role="READ",shard="users-us"\} [1-9]\d*$/m);
    expect(text).toMatch(/^gateway_http_request_duration_seconds_bucket\{le="\+Inf",route="\/db\/:db\/query\/v2"\} [1-9]\d*$/m);
    // every sample line is "name{labels} value"
    for (const line of text.trim().split('\n')) if (!line.startsWith('#')) expect(line).toMatch(/^[a-z_]+(\{[^}]*\})? -?[0-9.e+]+$/);
  });
});

describe('CORS (browser apps)', () => {
  it('answers a preflight and exposes the gateway headers', async () => {
    const pre = await fetch(`${gw.url}/graphql`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type,x-neo4j-region',
      },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    // an OPTIONS without Origin (no browser's) is still answered as a preflight, not a 404
    const bare = await fetch(`${gw.url}/db/users-us/query/v2`, { method: 'OPTIONS' });
    expect(bare.status).toBe(204);
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/authorization/);
    const res = await query(gw, 'users-us', { statement: 'RETURN 1' }, { headers: { origin: 'https://app.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-expose-headers')).toMatch(/x-gateway-route/);
    // a 202 with a body (the handler's own response) keeps its headers and body under CORS
    expect(res.status).toBe(202);
    expect(res.body.data?.values).toEqual([[1]]);
    expect(res.headers.get('x-gateway-route')).toMatch(/users-us/);
  });

  it('only the configured origins when the topology lists them', async () => {
    const t = sandboxTopology();
    t.cors = { origins: ['https://app.example'] };
    const g = await startTestGateway({ topology: t, redis: false });
    try {
      const ok = await fetch(`${g.url}/health`, { headers: { origin: 'https://app.example' } });
      expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example');
      const other = await fetch(`${g.url}/health`, { headers: { origin: 'https://evil.example' } });
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
      // a call without Origin (no browser's cross-origin call) gets no CORS headers, but says the
      // answer varies by Origin, so no cache hands it to a browser
      const none = await fetch(`${g.url}/health`);
      expect(none.headers.get('access-control-allow-origin')).toBeNull();
      expect(none.headers.get('vary')).toMatch(/origin/i);
    } finally {
      await g.stop();
    }
  });
});

describe('region pins', () => {
  it('a pinned read is routed to the pinned region when it has a reader', async () => {
    // one cluster with members in two regions: the same real instance listed under two names
    // would be fake; instead the pin decides between shards' regions in the x-gateway-route header
    const t = sandboxTopology();
    const g = await startTestGateway({ topology: t });
    try {
      const res = await query(g, 'users-us', { statement: 'RETURN 1', accessMode: 'READ' }, { headers: { 'x-neo4j-region': 'eu' } });
      expect(res.status).toBe(202);
      // c-us has no reader in eu: the read leaves the pinned region for the nearest one that has one
      expect(res.headers.get('x-gateway-route')).toMatch(/;READ;us-west$/);
    } finally {
      await g.stop();
    }
  });

  it('a strict pin answers 503 when the pinned region has no reader', async () => {
    const t = sandboxTopology();
    t.routing = { strictRegionPin: true, maxRoutingTableTtlSeconds: 300 };
    const g = await startTestGateway({ topology: t });
    try {
      const res = await query(g, 'users-us', { statement: 'RETURN 1', accessMode: 'READ' }, { headers: { 'x-neo4j-region': 'eu' } });
      expect(res.status).toBe(503);
      expect(res.body.errors?.[0]?.code).toBe('Neo.TransientError.Gateway.NoReaderInRegion');
    } finally {
      await g.stop();
    }
  });
});
