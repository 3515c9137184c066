/**
 * Redis connection options and value seals (src/cache/redis-target.ts, src/cache/redis-seal.ts). A real Redis Cluster is not
 * part of the test rig, so Cluster URLs are checked here, down to the options the ioredis Cluster
 * client holds; sealed values against a real redis-server are in test/integration/hardening.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { Cluster } from 'ioredis';
import { RedisCache } from '../../src/cache/redis.js';
import { Sealer } from '../../src/cache/redis-seal.js';
import { clusterOptions, redisTarget } from '../../src/cache/redis-target.js';

const SECRET = 'unit-fleet-secret-0123456789abcdef-01234';
const common = { keyPrefix: 'n4gw:', commandTimeout: 250, lazyConnect: true };

describe('Redis URLs', () => {
  it('one URL is one server (ioredis reads its credentials, database and TLS itself)', () => {
    expect(redisTarget('rediss://user:pw@cache.example:6380/2')).toEqual({ kind: 'single', url: 'rediss://user:pw@cache.example:6380/2' });
  });

  it('several seeds are a Redis Cluster that keeps username, password (percent-decoded) and TLS', () => {
    const t = redisTarget('rediss://app:p%40ss%3Aword@10.0.0.1:7000, rediss://app:p%40ss%3Aword@10.0.0.2:7001');
    expect(t).toEqual({
      kind: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
      ],
      username: 'app',
      password: 'p@ss:word',
      tls: true,
    });
    if (t.kind !== 'cluster') throw new Error('cluster expected');
    const o = clusterOptions(t, common);
    expect(o.redisOptions).toMatchObject({ username: 'app', password: 'p@ss:word', tls: {} });
    expect(o.keyPrefix).toBe('n4gw:');
  });

  it('credentials given on one seed apply to all; a password without a user; no TLS for redis://', () => {
    const t = redisTarget('redis://:only-pw@a.example:7000,redis://b.example,redis://[fd00::5]:7002');
    expect(t).toEqual({
      kind: 'cluster',
      nodes: [
        { host: 'a.example', port: 7000 },
        { host: 'b.example', port: 6379 },
        { host: 'fd00::5', port: 7002 },
      ],
      password: 'only-pw',
      tls: false,
    });
    if (t.kind !== 'cluster') throw new Error('cluster expected');
    const o = clusterOptions(t, common).redisOptions!;
    expect(o.password).toBe('only-pw');
    expect('username' in o).toBe(false);
    expect('tls' in o).toBe(false);
  });

  it('`cluster: true` with one seed is a cluster too', () => {
    expect(redisTarget('rediss://u:p@one.example:7000', true)).toMatchObject({ kind: 'cluster', username: 'u', password: 'p', tls: true });
  });

  it('refuses seeds that disagree on TLS or credentials, and seeds that are not Redis URLs', () => {
    expect(() => redisTarget('rediss://a:7000,redis://b:7001')).toThrow(/mix/);
    expect(() => redisTarget('redis://u:p1@a:7000,redis://u:p2@b:7001')).toThrow(/different credentials/);
    expect(() => redisTarget('redis://a:7000,b:7001')).toThrow(/not a redis/);
    expect(() => redisTarget('redis://a:7000,http://b:7001')).toThrow(/not a redis/);
  });

  it('the ioredis Cluster client built by RedisCache holds the credentials and TLS options', async () => {
    const cache = new RedisCache({
      url: 'rediss://app:s3cret@127.0.0.1:7000,rediss://app:s3cret@127.0.0.1:7001',
      keyPrefix: 'n4gw:',
      secret: SECRET,
      lazy: true,
      subscribe: false,
    });
    try {
      const client = (cache as unknown as { client: Cluster }).client;
      expect(client).toBeInstanceOf(Cluster);
      expect(client.options.redisOptions).toMatchObject({ username: 'app', password: 's3cret', tls: {} });
      expect(client.options.keyPrefix).toBe('n4gw:');
    } finally {
      await cache.close();
    }
  });

  it('refuses to build without a fleet secret', () => {
    expect(() => new RedisCache({ url: 'redis://127.0.0.1:1', keyPrefix: 'n4gw:', secret: '', lazy: true })).toThrow(/secret/);
  });
});

describe('seals (HMAC-SHA256 under the fleet secret)', () => {
  const sealer = new Sealer(SECRET);

  it('round-trips, bound to the secret, the context and every byte of the payload', async () => {
    const table = JSON.stringify({ writers: ['10.0.0.1:7687'], readers: ['10.0.0.2:7687'] });
    const sealed = await sealer.seal('value n4gw:rt:c-us:neo4j', table);
    expect(sealed).toMatch(/^h1\.[0-9a-f]{64}\./);
    expect(await sealer.open('value n4gw:rt:c-us:neo4j', sealed)).toBe(table);
    // another key or channel, another secret
    expect(await sealer.open('value n4gw:rt:c-eu:neo4j', sealed)).toBeUndefined();
    expect(await sealer.open('message n4gw:rt:c-us:neo4j', sealed)).toBeUndefined();
    expect(await new Sealer(`${SECRET}x`).open('value n4gw:rt:c-us:neo4j', sealed)).toBeUndefined();
    // tampered payload or MAC
    expect(await sealer.open('value n4gw:rt:c-us:neo4j', sealed.replace('10.0.0.1', '6.6.6.6'))).toBeUndefined();
    const mac = sealed.slice(3, 67);
    const flipped = sealed.slice(0, 3) + (mac[0] === 'a' ? 'b' : 'a') + mac.slice(1) + sealed.slice(67);
    expect(await sealer.open('value n4gw:rt:c-us:neo4j', flipped)).toBeUndefined();
  });

  it('unsealed and malformed values are refused', async () => {
    for (const raw of [
      '{"writers":["6.6.6.6:7687"]}',
      '',
      'h1.',
      `h1.${'0'.repeat(64)}`,
      `h1.${'z'.repeat(64)}.{}`,
      `h1.${'0'.repeat(63)}.{}`,
      `h2.${'0'.repeat(64)}.{}`,
    ]) {
      expect(await sealer.open('value k', raw)).toBeUndefined();
    }
  });
});
