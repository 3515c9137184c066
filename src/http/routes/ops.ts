/**
 * Discovery document and operations endpoints: /, /health, /ready, /topology, /metrics.
 *
 * The discovery document names the URL clients send queries to: http.publicUrl, else the
 * request's own URL. X-Forwarded-Host/-Proto are believed only from a TCP peer listed in
 * http.trustedProxies (anyone else could point clients, and their keys, at a host of their
 * choosing). /topology shows a key only the shards, composites and clusters it may use.
 */
import type { Context, Hono } from 'hono';
import { ConfigError } from '../../config/load.js';
import { memberRegion } from '../../topology/index.js';
import { toGatewayError } from '../../errors/index.js';
import { COMPAT_NEO4J_VERSION, GATEWAY_AGENT, GATEWAY_VERSION } from '../../config/version.js';
import { FORWARDED_HOST, inRanges, lastValue, parseTrustedProxies } from '../proxies.js';
import { visibleTopology } from '../visibility.js';
import type { Principal } from '../auth.js';
import type { GatewayEnv } from '../context.js';
import type { Guards } from '../middleware/guards.js';
import type { Services } from '../services.js';

type Env = GatewayEnv;

export function registerOps(app: Hono<Env>, s: Services, g: Guards): void {
  const { deps, topology, router: routing, metrics, now, runtime } = s;
  const authenticate = g.authenticate;
  const proxies = parseTrustedProxies(topology.http.trustedProxies);
  if (proxies.problems.length > 0) throw new ConfigError(proxies.problems);
  const publicBase = topology.http.publicUrl?.replace(/\/+$/, '');

  /** scheme://host[/path] clients reach this gateway at */
  const baseUrl = (c: Context<Env>): string => {
    if (publicBase !== undefined) return publicBase;
    const url = new URL(c.req.url);
    let proto = url.protocol.slice(0, -1);
    let host = url.host;
    if (inRanges(deps.peerAddress?.(c.req.raw), proxies.ranges)) {
      const fh = lastValue(c.req.header('x-forwarded-host'));
      if (fh !== undefined && FORWARDED_HOST.test(fh)) host = fh;
      const fp = lastValue(c.req.header('x-forwarded-proto'))?.toLowerCase();
      if (fp === 'http' || fp === 'https') proto = fp;
    }
    return `${proto}://${host}`;
  };

  // ---- discovery document (what Query API clients read first) ----
  // Neo4j's own discovery document needs no credentials and names no database; so here the
  // database list is given only to a request with a valid key, and only the databases it may use
  app.get('/', async (c) => {
    c.header('cache-control', 'no-store');
    let databases: string[] | undefined;
    const header = c.req.header('authorization');
    if (header || topology.auth.disabled) {
      try {
        const visible = visibleTopology(topology, (await s.auth.authenticate(header)).databases);
        databases = [...visible.shards, ...visible.composites];
      } catch {
        databases = undefined;
      }
    }
    return c.json({
      query: `${baseUrl(c)}/db/{databaseName}/query/v2`,
      neo4j_version: COMPAT_NEO4J_VERSION,
      neo4j_edition: 'gateway',
      gateway: GATEWAY_AGENT,
      ...(databases ? { databases } : {}),
    });
  });

  // ---- ops ----
  app.get('/health', (c) => c.json({ status: 'up', version: GATEWAY_VERSION, runtime }));

  app.get('/ready', async (c) => {
    const shards = Object.entries(topology.shards);
    const checks = await Promise.all(
      shards.map(async ([name, s]) => {
        try {
          const { table, source } = await routing.tableFor(s.cluster, s.database);
          return { shard: name, ok: table.writers.length + table.readers.length > 0, source };
        } catch (err) {
          return { shard: name, ok: false, error: toGatewayError(err).message };
        }
      }),
    );
    const ready = checks.every((x) => x.ok);
    const cache = deps.sharedCache ? (deps.sharedCache.healthy() ? 'ok' : 'degraded') : 'none';
    return c.json({ status: ready ? (cache === 'degraded' ? 'degraded' : 'ready') : 'not ready', sharedCache: cache, shards: checks }, ready ? 200 : 503);
  });

  const opsAuth = (name: 'metrics' | 'topology') => (c: Context<Env>, next: () => Promise<void>) =>
    topology.auth.publicEndpoints.includes(name) ? next() : authenticate(c, next);

  app.get('/topology', opsAuth('topology'), (c) => {
    const t = now();
    // a public /topology (auth.publicEndpoints) has no principal: the operator chose to show it all
    const principal = c.get('principal') as Principal | undefined;
    const visible = visibleTopology(topology, principal?.databases ?? '*');
    const visibleDatabases = new Set([...visible.shards].map((s) => `${topology.shards[s]!.cluster}\u0000${topology.shards[s]!.database}`));
    const tables = routing.snapshot().filter((x) => visibleDatabases.has(`${x.table.cluster}\u0000${x.table.database}`));
    const clusters = Object.fromEntries(
      Object.entries(topology.clusters)
        .filter(([name]) => visible.clusters.has(name))
        .map(([name, cl]) => {
          const own = tables.filter((x) => x.table.cluster === name);
          const addresses = new Set<string>([...Object.keys(cl.members), ...own.flatMap((x) => [...x.table.writers, ...x.table.readers, ...x.table.routers])]);
          const members = [...addresses].sort().map((address) => {
            const roles = new Set<string>();
            for (const x of own) {
              if (x.table.writers.includes(address)) roles.add('WRITE');
              if (x.table.readers.includes(address)) roles.add('READ');
              if (x.table.routers.includes(address)) roles.add('ROUTE');
            }
            return {
              address,
              region: memberRegion(topology, name, address),
              roles: [...roles].sort(),
              ...routing.memberState(name, address),
            };
          });
          return [
            name,
            {
              routers: cl.routers,
              members,
              routingTables: own.map((x) => ({
                database: x.table.database,
                ageMs: t - x.table.fetchedAt,
                ttlSeconds: x.table.ttlSeconds,
                expired: x.table.expiresAt <= t,
                source: x.table.origin,
                writers: x.table.writers,
                readers: x.table.readers,
                routers: x.table.routers,
              })),
            },
          ];
        }),
    );
    return c.json({
      regions: topology.regions,
      defaultRegion: topology.defaultRegion,
      clusters,
      shards: Object.fromEntries(Object.entries(topology.shards).filter(([n]) => visible.shards.has(n))),
      composites: Object.fromEntries(
        Object.entries(topology.composites)
          .filter(([n]) => visible.composites.has(n))
          .map(([n, x]) => [n, { shards: x.shards, shardKey: x.shardKey?.strategy ?? null }]),
      ),
      sharedCache: deps.sharedCache ? { kind: deps.sharedCache.kind, healthy: deps.sharedCache.healthy() } : null,
    });
  });

  app.get('/metrics', opsAuth('metrics'), (c) => c.text(metrics.registry.render(), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }));
}
