/**
 * Where the data lives: regions, Neo4j clusters and their members, shards (a database in a
 * cluster), and composites over shards with the shard key that selects among them.
 */
import * as z from 'zod';
import { boltUrl, envName, hostPort, httpUrl, name } from './schema-formats.js';

export const RegionSchema = z
  .object({
    lat: z.number().min(-90).max(90).describe('Latitude of the region, in degrees.'),
    lon: z.number().min(-180).max(180).describe('Longitude of the region, in degrees.'),
  })
  .strict()
  .describe('A region: its coordinates decide which region is nearest to another.');

export const MemberSchema = z
  .object({
    region: name.describe('The region this member runs in.'),
    http: httpUrl.optional().describe("The member's HTTP (Query API) base URL, used by HTTP transports."),
  })
  .strict();

export const ClusterSchema = z
  .object({
    routers: z.array(boltUrl).min(1).describe('Seed routers of the cluster, tried in turn for its routing table.'),
    auth: z
      .object({
        user: z.string().min(1).describe('Neo4j user the gateway connects as.'),
        passwordEnv: envName.describe(
          'Name of the environment variable (or Worker secret) that holds the password. The password itself never appears in the file.',
        ),
      })
      .strict(),
    region: name.optional().describe('Region of members not listed in "members" (default: defaultRegion).'),
    members: z.record(hostPort, MemberSchema).default({}).describe('Known members by their advertised Bolt address "host:port": their region and HTTP URL.'),
    routingContext: z
      .record(z.string(), z.string())
      .default({})
      .describe('Routing context sent with every routing-table request (e.g. {"policy": "eu"} for server-side routing policies).'),
  })
  .strict();

export const ShardSchema = z
  .object({
    cluster: name.describe('The cluster that holds this shard.'),
    database: z.string().min(1).describe('The Neo4j database name of this shard inside its cluster.'),
  })
  .strict();

export const ShardKeySchema = z
  .discriminatedUnion('strategy', [
    z
      .object({
        strategy: z.literal('lookup'),
        map: z.record(z.string(), name).describe('Shard-key value -> shard name.'),
      })
      .strict(),
    z
      .object({
        strategy: z.literal('hash'),
      })
      .strict()
      .describe("Consistent hashing of the key over the composite's shards."),
    z
      .object({
        strategy: z.literal('range'),
        ranges: z
          .array(
            z
              .object({
                shard: name,
                from: z.union([z.number(), z.string()]).optional().describe('Inclusive lower bound (absent = unbounded).'),
                to: z.union([z.number(), z.string()]).optional().describe('Exclusive upper bound (absent = unbounded).'),
              })
              .strict(),
          )
          .min(1),
      })
      .strict(),
  ])
  .describe('How a shard-key value selects the shards of a composite.');

export const CompositeSchema = z
  .object({
    shards: z.array(name).min(1).describe('The shards of this composite, in order.'),
    shardKey: ShardKeySchema.optional(),
  })
  .strict();
