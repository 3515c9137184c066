/**
 * The topology file (DESIGN §3), assembled from its sections: where the data lives
 * (schema-clusters.ts), API keys (schema-keys.ts), limits (schema-limits.ts) and the gateway's own
 * sections (schema-gateway.ts); cross-references are checked once the shape is right
 * (schema-checks.ts). Every field carries a description: the JSON Schema in
 * schema/topology.schema.json is generated from this file (`npm run schema`) and a unit test
 * fails when it is stale.
 */
import * as z from 'zod';
import { checkCrossReferences } from './schema-checks.js';
import { ClusterSchema, CompositeSchema, RegionSchema, ShardSchema } from './schema-clusters.js';
import { name } from './schema-formats.js';
import { AuthSchema, CacheSchema, CorsSchema, GraphqlSchema, HttpSchema, ObservabilitySchema, RoutingSchema, SecretsSchema } from './schema-gateway.js';
import { ApiKeySchema } from './schema-keys.js';
import { LimitsSchema, type KeyLimitsSchema } from './schema-limits.js';

export type { Capability } from './schema-keys.js';

export const TopologySchema = z
  .object({
    $schema: z.string().optional(),
    regions: z.record(name, RegionSchema).describe('Regions by name.'),
    defaultRegion: name.describe('Region of a request that names none and whose runtime gives none.'),
    clusters: z.record(name, ClusterSchema).describe('Neo4j clusters (one per shard or region) by name.'),
    shards: z.record(name, ShardSchema).describe('Shards: a database in a cluster, by name.'),
    composites: z.record(name, CompositeSchema).default({}).describe('Composite databases over several shards.'),
    cache: CacheSchema,
    auth: AuthSchema,
    apiKeys: z.array(ApiKeySchema).default([]).describe('API keys, stored as SHA-256 hashes.'),
    limits: LimitsSchema,
    http: HttpSchema,
    secrets: SecretsSchema,
    cors: CorsSchema,
    graphql: GraphqlSchema,
    routing: RoutingSchema,
    observability: ObservabilitySchema,
  })
  .strict()
  .superRefine((t, ctx) => checkCrossReferences(t, (path, message) => ctx.addIssue({ code: 'custom', path, message })));

export type Topology = z.output<typeof TopologySchema>;
export type TopologyInput = z.input<typeof TopologySchema>;
export type ClusterConfig = Topology['clusters'][string];
export type ShardConfig = Topology['shards'][string];
export type CompositeConfig = Topology['composites'][string];
export type ApiKeyConfig = Topology['apiKeys'][number];
export type Limits = Topology['limits'];
export type KeyLimits = z.output<typeof KeyLimitsSchema>;
