/**
 * The http layer's handling of an unexpected error (a bug, or a transport failing in a way it
 * should not): the client gets a masked UnknownError and the request id; the log gets the stack,
 * tied to the request by its id. A transport that throws a plain TypeError plays the bug.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseTopology } from '../../src/config/load.js';
import { createGateway } from '../../src/http/app.js';
import { createLogger } from '../../src/telemetry/log.js';
import type { Transport } from '../../src/transport/types.js';

const KEY = 'unit-test-key-0123456789';

function gatewayWith(run: Transport['run']) {
  const lines: Record<string, unknown>[] = [];
  const topology = parseTopology({
    regions: { r: { lat: 0, lon: 0 } },
    defaultRegion: 'r',
    clusters: { c: { routers: ['neo4j://10.0.0.1:7687'], auth: { user: 'neo4j', passwordEnv: 'P' }, region: 'r' } },
    shards: { s: { cluster: 'c', database: 'neo4j' } },
    apiKeys: [{ id: 'k', sha256: createHash('sha256').update(KEY).digest('hex'), databases: ['*'], modes: ['READ', 'WRITE'] }],
  });
  const transport: Transport = {
    run,
    fetchRoutingTable: async () => ({ database: 'neo4j', ttlSeconds: 300, writers: ['10.0.0.1:7687'], readers: ['10.0.0.1:7687'], routers: ['10.0.0.1:7687'] }),
    close: async () => undefined,
  };
  const gw = createGateway({
    topology,
    transport,
    logger: createLogger({ level: 'info', write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) }),
  });
  const post = (statement: string) =>
    gw.app.fetch(
      new Request('http://gw/db/s/query/v2', {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', 'x-request-id': 'req-1' },
        body: JSON.stringify({ statement }),
      }),
    );
  return { post, lines };
}

describe('an unexpected error', () => {
  it('is masked for the client and logged with its stack under the request id', async () => {
    const { post, lines } = gatewayWith(async () => {
      throw new TypeError('kaboom: internal detail /etc/secret-path');
    });
    const res = await post('RETURN 1');
    expect(res.status).toBe(500);
    expect(res.headers.get('x-request-id')).toBe('req-1');
    const body = await res.text();
    expect(JSON.parse(body)).toEqual({ errors: [{ code: 'Neo.DatabaseError.General.UnknownError', message: expect.any(String) }] });
    expect(body).not.toContain('secret-path');
    const unexpected = lines.find((l) => l.msg === 'unexpected error');
    expect(unexpected).toMatchObject({ level: 'error', requestId: 'req-1', path: '/db/s/query/v2' });
    // the executor wraps what it cannot classify; the original, with its stack, is the cause
    expect((unexpected!.error as { cause: { stack: string } }).cause.stack).toContain('kaboom');
    expect(lines.find((l) => l.msg === 'request')).toMatchObject({
      level: 'error',
      requestId: 'req-1',
      status: 500,
      error: 'Neo.DatabaseError.General.UnknownError',
    });
  });

  it('a client error is not an unexpected one', async () => {
    const { post, lines } = gatewayWith(async () => ({ fields: [], values: [], bookmarks: [], counters: {}, notifications: [] }) as never);
    expect((await post('RETURN')).status).toBeGreaterThanOrEqual(400);
    expect(lines.some((l) => l.msg === 'unexpected error')).toBe(false);
  });
});
