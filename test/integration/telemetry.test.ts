/**
 * Operating the gateway (issue 11), through its public interfaces against the real sandbox:
 *  - a request can be followed from the client's x-request-id to the gateway's log line and to
 *    Neo4j's own SHOW TRANSACTIONS metadata;
 *  - log lines carry no key, statement or parameter value unless observability.logParameters;
 *  - /metrics is read by an independent parser (Debian's python3-prometheus-client);
 *  - spans reach an OTLP/HTTP collector (an in-process receiver) under the client's trace;
 *  - a drained shard answers 503 with Retry-After, alone and in a fan-out.
 */
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTopology } from '../../src/config/load.js';
import type { TopologyInput } from '../../src/config/schema.js';
import { startNodeGateway, type RunningGateway } from '../../src/adapters/node/server.js';
import { createLogger } from '../../src/telemetry/log.js';
import { KEYS, query, sandboxEnv, sandboxTopology, sha256 } from '../support/fixture.js';

const SHOW_KEY = 'test-show-key-0123456789';
const CLIENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_PARENT = '00f067aa0ba902b7';

interface Line {
  level: string;
  msg: string;
  [k: string]: unknown;
}

async function start(overrides: Partial<TopologyInput> = {}): Promise<{ gw: RunningGateway; lines: () => Line[]; raw: string[] }> {
  const raw: string[] = [];
  const topology = sandboxTopology({
    apiKeys: [
      { id: 'admin', sha256: sha256(KEYS.admin), databases: ['*'], modes: ['READ', 'WRITE'] },
      { id: 'shower', sha256: sha256(SHOW_KEY), databases: ['*'], modes: ['READ'], allow: ['admin'] },
    ],
    ...overrides,
  });
  const gw = await startNodeGateway({
    topology: parseTopology(topology),
    env: sandboxEnv(),
    logger: createLogger({ level: 'debug', write: (l) => raw.push(l) }),
    port: 0,
  });
  const lines = () => raw.map((l) => JSON.parse(l) as Line);
  return { gw, lines, raw };
}

const post = (gw: { url: string }, path: string, body: unknown, headers: Record<string, string> = {}, key = KEYS.admin) =>
  fetch(`${gw.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${key}`, ...headers },
    body: JSON.stringify(body),
  });

describe('a request followed end to end', () => {
  let t: Awaited<ReturnType<typeof start>>;
  beforeAll(async () => {
    t = await start();
  });
  afterAll(async () => {
    await t?.gw.stop();
  });

  it("from the client's x-request-id to the gateway's log line and to Neo4j's SHOW TRANSACTIONS", async () => {
    const id = `client-${Date.now()}`;
    const begin = await post(
      t.gw,
      '/db/users-us/query/v2/tx',
      { statement: 'RETURN 1 AS one' },
      { 'x-request-id': id, traceparent: `00-${CLIENT_TRACE}-${CLIENT_PARENT}-01` },
    );
    expect(begin.status, await begin.clone().text()).toBe(202);
    expect(begin.headers.get('x-request-id')).toBe(id);
    expect(begin.headers.get('traceparent')).toMatch(new RegExp(`^00-${CLIENT_TRACE}-[0-9a-f]{16}-01$`));
    const txId = ((await begin.json()) as { transaction: { id: string } }).transaction.id;
    try {
      // Neo4j itself shows the open transaction with the request's metadata
      const shown = await query(
        t.gw,
        'users-us',
        { statement: 'SHOW TRANSACTIONS YIELD metaData, currentQuery WHERE metaData.requestId = $id RETURN metaData', parameters: { id }, accessMode: 'READ' },
        { key: SHOW_KEY },
      );
      expect(shown.status, shown.text).toBe(202);
      const meta = shown.body.data!.values.map((row) => row[0] as Record<string, string>);
      expect(meta).toHaveLength(1);
      expect(meta[0]).toMatchObject({ requestId: id, apiKey: 'admin' });
      expect(meta[0]!.traceparent).toContain(CLIENT_TRACE);
    } finally {
      await fetch(`${t.gw.url}/db/users-us/query/v2/tx/${txId}`, { method: 'DELETE', headers: { authorization: `Bearer ${KEYS.admin}` } });
    }
    // the gateway's own line for that request
    const line = t.lines().find((l) => l.msg === 'request' && l.requestId === id);
    expect(line).toMatchObject({
      level: 'info',
      key: 'admin',
      method: 'POST',
      route: '/db/:db/query/v2/tx',
      database: 'users-us',
      status: 202,
      traceId: CLIENT_TRACE,
    });
    expect(typeof line!.durationMs).toBe('number');
    expect(line!.shards).toEqual([expect.objectContaining({ shard: 'users-us', role: 'WRITE', region: 'us-west', attempts: 1 })]);
  });

  it('a request without an id gets one, and a hostile one is replaced', async () => {
    const a = await post(t.gw, '/db/users-us/query/v2', { statement: 'RETURN 1' });
    expect(a.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.headers.get('traceparent')).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
    const b = await post(t.gw, '/db/users-us/query/v2', { statement: 'RETURN 1' }, { 'x-request-id': 'evil"\tid' });
    expect(b.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('errors are logged with their code, and client errors are warnings', async () => {
    const res = await post(t.gw, '/db/users-us/query/v2', { statement: 'CREATE (:X)' }, {}, SHOW_KEY);
    expect(res.status).toBe(403);
    const id = res.headers.get('x-request-id');
    expect(t.lines().find((l) => l.requestId === id)).toMatchObject({ level: 'warn', status: 403, error: 'Neo.ClientError.Security.Forbidden', key: 'shower' });
  });

  it('no line holds a key, a statement or a parameter value', async () => {
    const marker = `secret-marker-${Date.now()}`;
    await post(t.gw, '/db/users/query/v2', { statement: `RETURN $p AS p, '${marker}-literal' AS q`, parameters: { p: marker } });
    await post(t.gw, '/db/users-us/query/v2', { statement: 'RETURN $p AS p', parameters: { p: marker } }, {}, `${marker}-as-a-key`);
    const all = t.raw.join('\n');
    expect(all).not.toContain(marker);
    expect(all).not.toContain(KEYS.admin);
    expect(all).not.toContain(SHOW_KEY);
  });

  it('/metrics is one well-formed exposition, as an independent parser reads it', async () => {
    await post(t.gw, '/db/users/query/v2', { statement: 'MATCH (n) RETURN count(n) AS c' });
    const res = await fetch(`${t.gw.url}/metrics`, { headers: { authorization: `Bearer ${KEYS.admin}` } });
    const text = await res.text();
    const script = [
      'import json, sys',
      'from prometheus_client.parser import text_string_to_metric_families',
      'out = [{"name": f.name, "type": f.type, "samples": len(f.samples)} for f in text_string_to_metric_families(sys.stdin.read())]',
      'print(json.dumps(out))',
    ].join('\n');
    // Debian's python3 (apt: python3-prometheus-client), not whichever python is first on PATH
    const py = spawnSync('/usr/bin/python3', ['-c', script], { input: text, encoding: 'utf8' });
    expect(py.status, py.stderr).toBe(0);
    const families = JSON.parse(py.stdout) as { name: string; type: string; samples: number }[];
    const names = families.map((f) => f.name);
    expect(new Set(names).size).toBe(names.length);
    const typeOf = (n: string) => families.find((f) => f.name === n)?.type;
    // the parser drops a counter's _total suffix from the family name
    expect(typeOf('gateway_http_requests')).toBe('counter');
    expect(typeOf('gateway_http_request_duration_seconds')).toBe('histogram');
    expect(typeOf('gateway_member_healthy')).toBe('gauge');
    expect(typeOf('gateway_member_in_flight')).toBe('gauge');
    expect(typeOf('gateway_build_info')).toBe('gauge');
    expect(typeOf('process_resident_memory_bytes')).toBe('gauge');
    expect(typeOf('process_cpu_seconds')).toBe('counter');
    expect(typeOf('nodejs_eventloop_lag_seconds')).toBe('gauge');
    expect(families.find((f) => f.name === 'gateway_member_healthy')!.samples).toBeGreaterThanOrEqual(2);
  });
});

describe('spans', () => {
  let receiver: Server;
  const received: unknown[] = [];
  let t: Awaited<ReturnType<typeof start>>;
  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url === '/v1/traces') received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    const port = (receiver.address() as AddressInfo).port;
    t = await start({ observability: { otlpEndpoint: `http://127.0.0.1:${port}/v1/traces` } });
  });
  afterAll(async () => {
    await t?.gw.stop();
    await new Promise<void>((r) => receiver.close(() => r()));
  });

  it("a fan-out sends a server span under the client's trace and one span per shard under it", async () => {
    const res = await post(
      t.gw,
      '/db/users/query/v2',
      { statement: 'MATCH (n) RETURN count(n) AS c' },
      { traceparent: `00-${CLIENT_TRACE}-${CLIENT_PARENT}-01` },
    );
    expect(res.status).toBe(202);
    const spanId = res.headers.get('traceparent')!.split('-')[2];
    interface OtlpSpan {
      traceId: string;
      spanId: string;
      parentSpanId?: string;
      name: string;
      kind: number;
    }
    const spans = (): OtlpSpan[] =>
      (received as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] }[]).flatMap((r) =>
        r.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((s) => s.spans)),
      );
    const until = Date.now() + 10_000;
    while (Date.now() < until && !spans().some((s) => s.spanId === spanId)) await new Promise((r) => setTimeout(r, 100));
    const server = spans().find((s) => s.spanId === spanId);
    expect(server).toMatchObject({ traceId: CLIENT_TRACE, parentSpanId: CLIENT_PARENT, name: 'POST /db/users/query/v2' });
    // one span per shard statement: the fan-out to both shards (and Neo4j's EXPLAIN check of the statement on one)
    const children = spans().filter((s) => s.parentSpanId === spanId);
    expect([...new Set(children.map((s) => s.name))].sort()).toEqual(['shard users-eu', 'shard users-us']);
    expect(children.every((s) => s.traceId === CLIENT_TRACE)).toBe(true);
  });
});

describe('a drained shard', () => {
  let t: Awaited<ReturnType<typeof start>>;
  beforeAll(async () => {
    t = await start({ routing: { drainedShards: ['users-eu'], drainRetryAfterSeconds: 120 } });
  });
  afterAll(async () => {
    await t?.gw.stop();
  });

  it('answers 503 ShardDrained with Retry-After, alone and in a fan-out; the other shard serves on', async () => {
    const alone = await query(t.gw, 'users-eu', { statement: 'RETURN 1 AS one' });
    expect(alone.status).toBe(503);
    expect(alone.body.errors![0]!.code).toBe('Neo.TransientError.Gateway.ShardDrained');
    expect(alone.headers.get('retry-after')).toBe('120');
    const fanout = await query(t.gw, 'users', { statement: 'MATCH (n) RETURN count(n) AS c' });
    expect(fanout.status).toBe(503);
    expect(fanout.body.errors![0]!.code).toBe('Neo.TransientError.Gateway.ShardDrained');
    const partial = await query(
      t.gw,
      'users',
      { statement: 'MATCH (n) RETURN count(n) AS c', accessMode: 'READ' },
      { headers: { 'x-gateway-partial': 'allow' } },
    );
    expect(partial.status).toBe(202);
    expect(partial.headers.get('x-gateway-missing-shards')).toBe('users-eu');
    expect((await query(t.gw, 'users-us', { statement: 'RETURN 1 AS one' })).status).toBe(202);
    const metrics = await (await fetch(`${t.gw.url}/metrics`, { headers: { authorization: `Bearer ${KEYS.admin}` } })).text();
    expect(metrics).toContain('gateway_shard_drained{shard="users-eu"} 1');
    expect(metrics).toContain('gateway_shard_drained{shard="users-us"} 0');
  });

  it('an explicit transaction cannot begin on it either', async () => {
    const res = await post(t.gw, '/db/users-eu/query/v2/tx', {});
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('120');
  });
});
