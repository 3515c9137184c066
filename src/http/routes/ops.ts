/**
 * Discovery document and operations endpoints: /, /health, /ready, /topology, /metrics.
 *
 * The discovery document names the URL clients send queries to: http.publicUrl, else the
 * request's own URL. X-Forwarded-Host/-Proto are believed only from a TCP peer listed in
 * http.trustedProxies (anyone else could point clients, and their keys, at a host of their
 * choosing). /topology shows a key only the shards, composites and clusters it may use.
 */
import type { Context, Hono } from 'hono';
import { ConfigError, jsonPath } from '../../config/load.js';
import type { Topology } from '../../config/schema.js';
import { memberRegion } from '../../topology/index.js';
import { toGatewayError } from '../../errors/index.js';
import { COMPAT_NEO4J_VERSION, GATEWAY_VERSION } from '../app.js';
import type { Principal } from '../auth.js';
import type { GatewayEnv, Kit } from '../kit.js';

type Env = GatewayEnv;

// ---- trusted proxies: IPv4/IPv6 addresses and CIDR ranges (pure) ----

/** An IP address as 16 bytes (IPv4 as IPv4-mapped IPv6, so ::ffff:10.0.0.1 and 10.0.0.1 are one address). */
export function parseIp(text: string): Uint8Array | undefined {
  let t = text.trim();
  if (t.startsWith('[') && t.endsWith(']')) t = t.slice(1, -1);
  const zone = t.indexOf('%');
  if (zone >= 0) t = t.slice(0, zone);
  const v4 = (s: string): number[] | undefined => {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
    if (!m) return undefined;
    const bytes = m.slice(1).map(Number);
    return bytes.every((b) => b <= 255) ? bytes : undefined;
  };
  const four = v4(t);
  if (four) return Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...four]);
  if (!t.includes(':')) return undefined;
  // an IPv4 tail (::ffff:1.2.3.4) counts as two groups
  let tail: number[] = [];
  const lastColon = t.lastIndexOf(':');
  if (t.slice(lastColon + 1).includes('.')) {
    const embedded = v4(t.slice(lastColon + 1));
    if (!embedded) return undefined;
    tail = embedded;
    t = t.slice(0, lastColon + 1) + '0:0';
  }
  const halves = t.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string): number[] | undefined => {
    if (s === '') return [];
    const parts = s.split(':');
    return parts.every((p) => /^[0-9a-fA-F]{1,4}$/.test(p)) ? parts.map((p) => parseInt(p, 16)) : undefined;
  };
  const head = groups(halves[0]!);
  const rest = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !rest) return undefined;
  const missing = 8 - head.length - rest.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...Array<number>(missing).fill(0), ...rest];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  if (tail.length === 4) out.set(tail, 12);
  return out;
}

export interface AddressRange {
  bytes: Uint8Array;
  /** leading bits that must match (IPv4 ranges count the 96 bits of the mapped prefix) */
  bits: number;
}

/** Reads http.trustedProxies: each entry an address or a CIDR range; `problems` names the bad ones by JSON path. */
export function parseTrustedProxies(entries: readonly string[]): { ranges: AddressRange[]; problems: string[] } {
  const ranges: AddressRange[] = [];
  const problems: string[] = [];
  entries.forEach((entry, i) => {
    const [addr = '', len, extra] = entry.trim().split('/');
    const bytes = parseIp(addr);
    const v4 = bytes !== undefined && !addr.includes(':');
    const max = v4 ? 32 : 128;
    const prefix = len === undefined ? max : /^\d{1,3}$/.test(len) ? Number(len) : NaN;
    if (!bytes || extra !== undefined || !(prefix >= 0 && prefix <= max)) {
      problems.push(`${jsonPath(['http', 'trustedProxies', i])}: must be an IPv4 or IPv6 address, or a CIDR range such as "10.0.0.0/8" or "fd00::/8"`);
      return;
    }
    ranges.push({ bytes, bits: v4 ? 96 + prefix : prefix });
  });
  return { ranges, problems };
}

export function inRanges(address: string | undefined, ranges: readonly AddressRange[]): boolean {
  if (address === undefined || ranges.length === 0) return false;
  const ip = parseIp(address);
  if (!ip) return false;
  return ranges.some(({ bytes, bits }) => {
    for (let i = 0; i < 16 && i * 8 < bits; i++) {
      const take = Math.min(8, bits - i * 8);
      const mask = (0xff << (8 - take)) & 0xff;
      if ((ip[i]! & mask) !== (bytes[i]! & mask)) return false;
    }
    return true;
  });
}

/** the value a proxy added last to a list header ("a, b" -> "b") */
function lastValue(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const v = header.split(',').pop()?.trim();
  return v === '' ? undefined : v;
}

const FORWARDED_HOST = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/;

// ---- what a key may see of the topology ----

/** The shards, composites and clusters a key may use: its databases, the shards of its composites, and their clusters. */
export function visibleTopology(topology: Topology, databases: Principal['databases']): { shards: Set<string>; composites: Set<string>; clusters: Set<string> } {
  if (databases === '*') {
    return { shards: new Set(Object.keys(topology.shards)), composites: new Set(Object.keys(topology.composites)), clusters: new Set(Object.keys(topology.clusters)) };
  }
  const composites = new Set([...databases].filter((d) => Object.hasOwn(topology.composites, d)));
  const shards = new Set([...databases].filter((d) => Object.hasOwn(topology.shards, d)));
  for (const c of composites) for (const s of topology.composites[c]!.shards) shards.add(s);
  const clusters = new Set([...shards].map((s) => topology.shards[s]!.cluster));
  return { shards, composites, clusters };
}

export function registerOps(app: Hono<Env>, kit: Kit): void {
  const { deps, topology, routing, metrics, transactions, now, authenticate } = kit;
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
  app.get('/', (c) => {
    c.header('cache-control', 'no-store');
    return c.json({
      query: `${baseUrl(c)}/db/{databaseName}/query/v2`,
      neo4j_version: COMPAT_NEO4J_VERSION,
      neo4j_edition: 'gateway',
      gateway: `neo4j-edge-gateway/${GATEWAY_VERSION}`,
      databases: [...Object.keys(topology.shards), ...Object.keys(topology.composites)],
    });
  });

  // ---- ops ----
  app.get('/health', (c) => c.json({ status: 'up', version: GATEWAY_VERSION, runtime: deps.runtime ?? 'unknown' }));

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
      Object.entries(topology.clusters).filter(([name]) => visible.clusters.has(name)).map(([name, cl]) => {
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
      composites: Object.fromEntries(Object.entries(topology.composites).filter(([n]) => visible.composites.has(n)).map(([n, x]) => [n, { shards: x.shards, shardKey: x.shardKey?.strategy ?? null }])),
      sharedCache: deps.sharedCache ? { kind: deps.sharedCache.kind, healthy: deps.sharedCache.healthy() } : null,
    });
  });

  app.get('/metrics', opsAuth('metrics'), (c) => {
    const lines: string[] = [metrics.render().trimEnd()];
    lines.push('# HELP gateway_member_in_flight Statements running on a member.', '# TYPE gateway_member_in_flight gauge');
    lines.push('# HELP gateway_member_healthy 1 when the member is not ejected.', '# TYPE gateway_member_healthy gauge');
    for (const { table } of routing.snapshot()) {
      for (const address of new Set([...table.writers, ...table.readers])) {
        const s = routing.memberState(table.cluster, address);
        const l = `{cluster="${table.cluster}",member="${address}"}`;
        lines.push(`gateway_member_in_flight${l} ${s.inFlight}`, `gateway_member_healthy${l} ${s.healthy ? 1 : 0}`);
      }
    }
    lines.push('# HELP gateway_open_transactions Explicit transactions open on this instance.', '# TYPE gateway_open_transactions gauge', `gateway_open_transactions ${transactions.size}`);
    lines.push('# HELP gateway_discoveries_total Routing-table discoveries made by this instance.', '# TYPE gateway_discoveries_total counter', `gateway_discoveries_total ${routing.discoveries}`);
    return c.text(lines.join('\n') + '\n', 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
  });

}
