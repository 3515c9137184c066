/**
 * How to reach Redis: one server, or Redis Cluster seeds, read from the URL(s) of the topology
 * (cache.redisUrl), and the ioredis Cluster options that carry a target's credentials and TLS.
 */
import type { ClusterOptions } from 'ioredis';

/** how to reach Redis, read from the URL(s): one server, or Redis Cluster seeds */
export type RedisTarget =
  { kind: 'single'; url: string } | { kind: 'cluster'; nodes: { host: string; port: number }[]; username?: string; password?: string; tls: boolean };

/**
 * Reads `redis://` / `rediss://` URLs. Several, comma-separated (or `cluster`), are Redis Cluster
 * seeds: they must agree on TLS and on credentials (given on one seed or on each), which then
 * apply to every node of the cluster.
 */
export function redisTarget(url: string, cluster = false): RedisTarget {
  const urls = url
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean);
  if (!cluster && urls.length <= 1) return { kind: 'single', url: urls[0] ?? url };
  const seeds = urls.map((u) => {
    let p: URL;
    try {
      p = new URL(u);
    } catch {
      throw new Error('a Redis Cluster seed is not a redis:// or rediss:// URL');
    }
    if (p.protocol !== 'redis:' && p.protocol !== 'rediss:') throw new Error('a Redis Cluster seed is not a redis:// or rediss:// URL');
    return {
      host: p.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: Number(p.port || 6379),
      tls: p.protocol === 'rediss:',
      username: p.username ? decodeURIComponent(p.username) : undefined,
      password: p.password ? decodeURIComponent(p.password) : undefined,
    };
  });
  if (new Set(seeds.map((s) => s.tls)).size > 1) throw new Error('Redis Cluster seeds mix redis:// and rediss://');
  const withAuth = seeds.filter((s) => s.username !== undefined || s.password !== undefined);
  if (new Set(withAuth.map((s) => `${s.username ?? ''}\u0000${s.password ?? ''}`)).size > 1) throw new Error('Redis Cluster seeds carry different credentials');
  const auth = withAuth[0];
  return {
    kind: 'cluster',
    nodes: seeds.map((s) => ({ host: s.host, port: s.port })),
    ...(auth?.username !== undefined ? { username: auth.username } : {}),
    ...(auth?.password !== undefined ? { password: auth.password } : {}),
    tls: seeds[0]?.tls ?? false,
  };
}

/** ioredis Cluster options for a target: credentials and TLS reach every node through redisOptions */
export function clusterOptions(
  target: Extract<RedisTarget, { kind: 'cluster' }>,
  common: { keyPrefix: string; commandTimeout: number; lazyConnect: boolean },
): ClusterOptions {
  return {
    keyPrefix: common.keyPrefix,
    enableOfflineQueue: false,
    lazyConnect: common.lazyConnect,
    clusterRetryStrategy: (times: number) => Math.min(times * 200, 2000),
    redisOptions: {
      commandTimeout: common.commandTimeout,
      maxRetriesPerRequest: 0,
      ...(target.username !== undefined ? { username: target.username } : {}),
      ...(target.password !== undefined ? { password: target.password } : {}),
      ...(target.tls ? { tls: {} } : {}),
    },
  };
}
