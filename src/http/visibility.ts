/** What a key may see of the topology (/topology, /metrics): its databases, the shards of its composites, and their clusters. */
import type { Topology } from '../config/schema.js';
import type { Principal } from './auth.js';

/** The shards, composites and clusters a key may use: its databases, the shards of its composites, and their clusters. */
export function visibleTopology(
  topology: Topology,
  databases: Principal['databases'],
): { shards: Set<string>; composites: Set<string>; clusters: Set<string> } {
  if (databases === '*') {
    return {
      shards: new Set(Object.keys(topology.shards)),
      composites: new Set(Object.keys(topology.composites)),
      clusters: new Set(Object.keys(topology.clusters)),
    };
  }
  const composites = new Set([...databases].filter((d) => Object.hasOwn(topology.composites, d)));
  const shards = new Set([...databases].filter((d) => Object.hasOwn(topology.shards, d)));
  for (const c of composites) for (const s of topology.composites[c]!.shards) shards.add(s);
  const clusters = new Set([...shards].map((s) => topology.shards[s]!.cluster));
  return { shards, composites, clusters };
}
