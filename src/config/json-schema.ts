import * as z from 'zod';
import { TopologySchema } from './schema.js';

/** The JSON Schema of the topology file, generated from the zod schema (the single source). */
export function topologyJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(TopologySchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'topology.schema.json',
    title: 'neo4j-edge-gateway topology',
    description:
      'Regions, Neo4j clusters, shards, composites, cache and API keys of a neo4j-edge-gateway deployment. Cross-references (a shard naming a cluster, ...) are checked by the gateway at load time.',
    ...Object.fromEntries(Object.entries(schema).filter(([k]) => k !== '$schema')),
  };
}

export function topologyJsonSchemaText(): string {
  return JSON.stringify(topologyJsonSchema(), null, 2) + '\n';
}
