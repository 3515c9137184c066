/**
 * Cross-reference checks of a topology whose shape is right: every region, cluster, shard and
 * database a section names exists, composites and shard keys name their own shards, key ids are
 * unique, and explicit transactions leave each member pool its reserve.
 */
import type * as z from 'zod';
import type { ClusterSchema, CompositeSchema, ShardSchema } from './schema-clusters.js';
import type { RoutingSchema } from './schema-gateway.js';
import type { ApiKeySchema } from './schema-keys.js';
import type { LimitsSchema } from './schema-limits.js';

/** the sections of a parsed topology the checks read */
export interface CrossReferenced {
  regions: Record<string, unknown>;
  defaultRegion: string;
  clusters: Record<string, z.output<typeof ClusterSchema>>;
  shards: Record<string, z.output<typeof ShardSchema>>;
  composites: Record<string, z.output<typeof CompositeSchema>>;
  apiKeys: z.output<typeof ApiKeySchema>[];
  limits: z.output<typeof LimitsSchema>;
  routing: z.output<typeof RoutingSchema>;
}

/** reports each broken reference through `issue`, with its path in the topology */
export function checkCrossReferences(t: CrossReferenced, issue: (path: (string | number)[], message: string) => void): void {
  const regions = new Set(Object.keys(t.regions));
  if (!regions.has(t.defaultRegion)) issue(['defaultRegion'], `unknown region "${t.defaultRegion}"`);
  for (const [cname, c] of Object.entries(t.clusters)) {
    if (c.region !== undefined && !regions.has(c.region)) issue(['clusters', cname, 'region'], `unknown region "${c.region}"`);
    for (const [addr, m] of Object.entries(c.members)) {
      if (!regions.has(m.region)) issue(['clusters', cname, 'members', addr, 'region'], `unknown region "${m.region}"`);
    }
  }
  for (const [sname, s] of Object.entries(t.shards)) {
    if (!(s.cluster in t.clusters)) issue(['shards', sname, 'cluster'], `unknown cluster "${s.cluster}"`);
  }
  for (const [cname, c] of Object.entries(t.composites)) {
    if (cname in t.shards) issue(['composites', cname], `"${cname}" is already the name of a shard`);
    c.shards.forEach((s, i) => {
      if (!(s in t.shards)) issue(['composites', cname, 'shards', i], `unknown shard "${s}"`);
    });
    if (new Set(c.shards).size !== c.shards.length) issue(['composites', cname, 'shards'], 'lists a shard twice');
    const key = c.shardKey;
    if (key?.strategy === 'lookup') {
      for (const [k, s] of Object.entries(key.map)) {
        if (!c.shards.includes(s)) issue(['composites', cname, 'shardKey', 'map', k], `"${s}" is not a shard of composite "${cname}"`);
      }
    } else if (key?.strategy === 'range') {
      key.ranges.forEach((r, i) => {
        if (!c.shards.includes(r.shard)) issue(['composites', cname, 'shardKey', 'ranges', i, 'shard'], `"${r.shard}" is not a shard of composite "${cname}"`);
      });
    }
  }
  t.routing.drainedShards.forEach((s, i) => {
    if (!(s in t.shards)) issue(['routing', 'drainedShards', i], `unknown shard "${s}"`);
  });
  const databases = new Set([...Object.keys(t.shards), ...Object.keys(t.composites)]);
  t.apiKeys.forEach((k, i) => {
    k.databases.forEach((d, j) => {
      if (d !== '*' && !databases.has(d)) issue(['apiKeys', i, 'databases', j], `unknown database "${d}"`);
    });
  });
  const usable = Math.floor(t.limits.memberPoolSize * (1 - t.limits.memberPoolReserve));
  if (t.limits.maxOpenTransactions > usable) {
    issue(
      ['limits', 'maxOpenTransactions'],
      `must be at most ${usable} (memberPoolSize ${t.limits.memberPoolSize} less the memberPoolReserve share), so explicit transactions never take every connection to a member`,
    );
  }
  if (t.limits.maxOpenTransactionsPerKey > t.limits.maxOpenTransactions) issue(['limits', 'maxOpenTransactionsPerKey'], 'must not exceed maxOpenTransactions');
  const ids = t.apiKeys.map((k) => k.id);
  ids.forEach((id, i) => {
    if (ids.indexOf(id) !== i) issue(['apiKeys', i, 'id'], `duplicate key id "${id}"`);
  });
}
