import { z } from 'zod';

/**
 * The topology file (DESIGN §3). Every field carries a description: the JSON Schema in
 * schema/topology.schema.json is generated from this file (`npm run schema`) and a unit test
 * fails when it is stale.
 */

const name = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_-]{0,62}$/, 'must start with a letter and contain only letters, digits, "_" and "-" (at most 63 characters)');

const hostPort = z
  .string()
  .regex(/^[^\s:/]+:\d{1,5}$/, 'must be "host:port"');

const boltUrl = z
  .string()
  .regex(/^(neo4j|bolt)(\+s|\+ssc)?:\/\/[^\s/]+(:\d{1,5})?\/?$/, 'must be a neo4j:// or bolt:// URL such as "neo4j://10.0.0.1:7687"');

const httpUrl = z.string().regex(/^https?:\/\/[^\s]+$/, 'must be an http:// or https:// URL');

const envName = z
  .string()
  .regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name (A-Z, 0-9, _)');

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
        passwordEnv: envName.describe('Name of the environment variable (or Worker secret) that holds the password. The password itself never appears in the file.'),
      })
      .strict(),
    region: name.optional().describe('Region of members not listed in "members" (default: defaultRegion).'),
    members: z
      .record(hostPort, MemberSchema)
      .default({})
      .describe('Known members by their advertised Bolt address "host:port": their region and HTTP URL.'),
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
      .describe('Consistent hashing of the key over the composite\'s shards.'),
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

/**
 * What a key may do beyond reading and writing data (DESIGN §5b). Everything not granted is refused
 * with 403 before Neo4j is called.
 *   schema       CREATE/DROP INDEX and CONSTRAINT
 *   show         SHOW INDEXES / CONSTRAINTS / PROCEDURES / FUNCTIONS
 *   terminate    TERMINATE TRANSACTIONS
 *   loadCsv      LOAD CSV (Neo4j fetches the URL: files of the server, or any host it can reach)
 *   impersonate  the Query API's impersonatedUser field
 *   admin        administration (users, roles, privileges, databases, aliases, servers), SHOW
 *                TRANSACTIONS / SETTINGS / USERS / ..., and dbms.* procedures; implies every other
 *                capability except procedures:<pattern>
 *   procedures:<pattern>  procedures and user-defined functions by name, "*" as a wildcard
 *                (e.g. "procedures:apoc.*"); a read-only allow-list (db.labels, ...) needs none
 */
export const CAPABILITIES = ['schema', 'show', 'terminate', 'loadCsv', 'impersonate', 'admin'] as const;
export type Capability = (typeof CAPABILITIES)[number] | `procedures:${string}`;

const capability = z
  .string()
  .regex(
    new RegExp(`^(${CAPABILITIES.join('|')}|procedures:[A-Za-z0-9_.*\x60-]+)$`),
    `must be one of ${CAPABILITIES.map((c) => `"${c}"`).join(', ')} or "procedures:<name pattern>" such as "procedures:apoc.*"`,
  );

const positiveInt = () => z.number().int().positive();

/** Limits a key may override; absent fields take the global value from `limits`. */
export const KeyLimitsSchema = z
  .object({
    maxConcurrent: positiveInt().optional().describe('Requests this key may have running at once on one instance (429 past it).'),
    requestsPerSecond: z.number().positive().optional().describe('Fleet-wide rate limit of this key (all instances together; 429 with Retry-After past it). Absent: no rate limit.'),
    burst: positiveInt().optional().describe('Requests this key may send at once above its steady rate (default: one second of requestsPerSecond).'),
    maxOpenTransactions: positiveInt().optional().describe('Explicit transactions this key may hold open at once on one instance.'),
    maxResultBytes: positiveInt().optional().describe('Largest result this key may receive (bytes, measured while rows are converted).'),
    maxRows: positiveInt().optional().describe('Most rows a response to this key may carry.'),
  })
  .strict();

export const ApiKeySchema = z
  .object({
    id: z.string().min(1).describe('A name for the key, used in logs and metrics (never the key itself).'),
    sha256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, 'must be the hex SHA-256 of the key (64 hex digits)')
      .optional()
      .describe('Hex SHA-256 of the API key (unsalted). Generate with: printf %s "$KEY" | sha256sum. Prefer "hash".'),
    hash: z
      .string()
      .regex(
        /^(sha256:[^:\s]{1,128}:[0-9a-fA-F]{64}|pbkdf2-sha256:[1-9][0-9]{0,7}:[^:\s]{1,128}:[0-9a-fA-F]{64})$/,
        'must be "sha256:<salt>:<hex of sha256(salt + key)>" or "pbkdf2-sha256:<iterations>:<salt>:<hex>"',
      )
      .optional()
      .describe('Salted hash of the API key (give this or sha256). "sha256:<salt>:<hex>": SALT=$(openssl rand -hex 16); printf %s "$SALT$KEY" | sha256sum. "pbkdf2-sha256:<iterations>:<salt>:<hex>" (PBKDF2-HMAC-SHA256, 32 bytes): python3 -c \'import hashlib,sys;print(hashlib.pbkdf2_hmac("sha256",sys.argv[1].encode(),sys.argv[2].encode(),int(sys.argv[3])).hex())\' "$KEY" "$SALT" 100000. Salt: any characters but ":" and whitespace; Workers allow at most 100000 iterations.'),
    databases: z
      .array(z.string().min(1))
      .min(1)
      .describe('Shards and composites this key may use; "*" for all.'),
    modes: z
      .array(z.enum(['READ', 'WRITE']))
      .min(1)
      .default(['READ', 'WRITE'])
      .describe('Access modes this key may use.'),
    allow: z
      .array(capability)
      .default([])
      .describe('Capabilities beyond reading and writing data: "schema", "show", "terminate", "loadCsv", "impersonate", "admin", "procedures:<pattern>". Default: none.'),
    limits: KeyLimitsSchema.optional().describe('Per-key overrides of the global limits.'),
  })
  .strict()
  .refine((k) => (k.sha256 === undefined) !== (k.hash === undefined), { message: 'give exactly one of "sha256" and "hash"', path: ['hash'] });

export const TopologySchema = z
  .object({
    $schema: z.string().optional(),
    regions: z.record(name, RegionSchema).describe('Regions by name.'),
    defaultRegion: name.describe('Region of a request that names none and whose runtime gives none.'),
    clusters: z.record(name, ClusterSchema).describe('Neo4j clusters (one per shard or region) by name.'),
    shards: z.record(name, ShardSchema).describe('Shards: a database in a cluster, by name.'),
    composites: z.record(name, CompositeSchema).default({}).describe('Composite databases over several shards.'),
    cache: z
      .object({
        redisUrl: z
          .string()
          .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
          .optional()
          .describe('Redis shared by every gateway instance for routing tables. Absent: in-process cache only.'),
        redisUrlEnv: envName.optional().describe('Environment variable holding the Redis URL (wins over redisUrl).'),
        keyPrefix: z.string().default('n4gw:').describe('Prefix of every Redis key.'),
      })
      .strict()
      .default({ keyPrefix: 'n4gw:' }),
    auth: z
      .object({
        disabled: z.boolean().default(false).describe('Turn API-key auth off (local development only).'),
        publicEndpoints: z
          .array(z.enum(['metrics', 'topology']))
          .default([])
          .describe('Ops endpoints served without a key (e.g. ["metrics"] for a Prometheus scraper on a private network). /health and /ready never need one.'),
      })
      .strict()
      .default({ disabled: false, publicEndpoints: [] }),
    apiKeys: z.array(ApiKeySchema).default([]).describe('API keys, stored as SHA-256 hashes.'),
    limits: z
      .object({
        maxBodyBytes: z.number().int().positive().default(1048576).describe('Largest request body accepted (bytes).'),
        maxRows: z.number().int().positive().default(100000).describe('Most rows a response may carry; more is an error, never a silent cut.'),
        maxResultBytes: z.number().int().positive().default(33554432).describe('Largest result a response may carry (bytes, measured while rows are converted); past it the statement is stopped and the request fails (400 ResultTooLarge).'),
        queryTimeoutMs: z.number().int().positive().default(30000).describe('Transaction timeout sent to Neo4j.'),
        requestDeadlineMs: z.number().int().positive().default(60000).describe('Deadline for one request, retries included.'),
        shardDeadlineMs: z.number().int().positive().optional().describe('Deadline for each shard of a fan-out (default: the request deadline). A shard past it fails (or is reported missing with x-gateway-partial: allow).'),
        transactionIdleMs: z.number().int().positive().default(30000).describe('Explicit transactions idle longer than this are rolled back.'),
        maxStatementBytes: z.number().int().positive().default(65536).describe('Longest Cypher statement accepted (UTF-8 bytes); longer ones are refused (413) before they are parsed.'),
        parseBudgetMs: z.number().int().positive().default(1000).describe('Most time the gateway spends parsing one statement; a statement that takes longer is refused (400 StatementTooComplex).'),
        analysisCacheEntries: z.number().int().positive().default(5000).describe('Statements whose analysis (classification and composite plan) is kept, so a repeated statement is never parsed again.'),
        analysisCacheBytes: z.number().int().positive().default(33554432).describe('Memory the analysis cache may use (bytes, estimated); the least recently used entries go first.'),
        maxJsonDepth: z.number().int().positive().default(64).describe('Deepest nesting of arrays and objects in a request body (parameters included); deeper bodies are refused (400).'),
        maxOpenTransactions: z.number().int().positive().default(64).describe('Explicit transactions open at once on one instance, all keys together (must stay below memberPoolSize minus the reserve).'),
        maxOpenTransactionsPerKey: z.number().int().positive().default(8).describe('Explicit transactions one key may hold open at once on one instance.'),
        maxConcurrentPerKey: z.number().int().positive().default(256).describe('Requests one key may have running at once on one instance (429 past it).'),
        memberPoolSize: z.number().int().positive().default(100).describe('Connections the gateway keeps to each cluster member at most.'),
        memberPoolReserve: z.number().min(0).max(0.9).default(0.2).describe('Share of each member pool kept for auto-commit statements, routing and probes: explicit transactions never take it.'),
      })
      .strict()
      .default({
        maxBodyBytes: 1048576,
        maxRows: 100000,
        maxResultBytes: 33554432,
        queryTimeoutMs: 30000,
        requestDeadlineMs: 60000,
        transactionIdleMs: 30000,
        maxStatementBytes: 65536,
        parseBudgetMs: 1000,
        analysisCacheEntries: 5000,
        analysisCacheBytes: 33554432,
        maxJsonDepth: 64,
        maxOpenTransactions: 64,
        maxOpenTransactionsPerKey: 8,
        maxConcurrentPerKey: 256,
        memberPoolSize: 100,
        memberPoolReserve: 0.2,
      }),
    http: z
      .object({
        publicUrl: z.string().regex(/^https?:\/\/[^\s/]+(\/[^\s]*)?$/, 'must be an http:// or https:// URL').optional().describe('The URL clients reach the gateway at (discovery document). Absent: the request\'s own URL, with X-Forwarded-Host/-Proto honoured only from trustedProxies.'),
        trustedProxies: z.array(z.string().min(1)).default([]).describe('Addresses (IPv4/IPv6, or CIDR ranges) of proxies whose X-Forwarded-* headers are believed.'),
      })
      .strict()
      .default({ trustedProxies: [] }),
    secrets: z
      .object({
        fleetSecretEnv: envName.default('GATEWAY_SECRET').describe('Environment variable (or Worker secret) holding the fleet secret: it signs transaction ids and authenticates routing tables in Redis. Required (at least 32 characters) whenever Redis or Neo4j-held transactions are used.'),
      })
      .strict()
      .default({ fleetSecretEnv: 'GATEWAY_SECRET' }),
    cors: z
      .object({
        origins: z
          .array(z.string().min(1))
          .default(['*'])
          .describe('Origins browsers may call the gateway from ("*": any; keys travel in Authorization headers, never cookies). Empty: no CORS headers.'),
      })
      .strict()
      .default({ origins: ['*'] }),
    graphql: z
      .object({
        schema: z.array(z.string().min(1)).default([]).describe('GraphQL SDL files (paths relative to the topology file) with @cypher fields; none: /graphql is off.'),
        maxDepth: z.number().int().positive().default(8).describe('Deepest selection a GraphQL operation may have.'),
        maxAliases: z.number().int().nonnegative().default(20).describe('Most aliased fields in one operation.'),
        maxCost: z.number().int().positive().default(100).describe('Most cost per operation: each @cypher field costs the number of shards its database spans.'),
        persistedDocuments: z.record(z.string().regex(/^[0-9a-f]{64}$/, 'must be the hex SHA-256 of the document'), z.string()).optional().describe('Allow-list of operations by SHA-256; with it, only these documents run.'),
        graphiql: z.boolean().default(true).describe('Serve GraphiQL at GET /graphql (turn off in production).'),
      })
      .strict()
      .default({ schema: [], maxDepth: 8, maxAliases: 20, maxCost: 100, graphiql: true }),
    routing: z
      .object({
        strictRegionPin: z.boolean().default(false).describe('A pinned read with no reader in the pinned region fails (503) instead of leaving the region.'),
        maxRoutingTableTtlSeconds: z.number().int().positive().default(300).describe('Upper bound on the TTL a routing table is cached for.'),
        drainedShards: z
          .array(name)
          .default([])
          .describe('Shards drained for maintenance (a restore): every statement for them, alone or in a fan-out, answers 503 ShardDrained with Retry-After; nothing is sent to their cluster.'),
        drainRetryAfterSeconds: z.number().int().positive().default(60).describe('Retry-After of a drained shard\'s 503.'),
      })
      .strict()
      .default({ strictRegionPin: false, maxRoutingTableTtlSeconds: 300, drainedShards: [], drainRetryAfterSeconds: 60 }),
    observability: z
      .object({
        logLevel: z.enum(['debug', 'info', 'warn', 'error']).default('info').describe('Least severe log lines written (Node: LOG_LEVEL overrides).'),
        logFormat: z.enum(['json', 'pretty']).default('json').describe('json: one JSON object per line; pretty: short lines for a terminal (Node: LOG_FORMAT overrides).'),
        logParameters: z
          .boolean()
          .default(false)
          .describe('Debugging only: request log lines carry the statement and its parameter values. Off (the default): no statement text, parameter value, key or secret is ever logged.'),
        otlpEndpoint: z
          .string()
          .regex(/^https?:\/\//, 'must be an http:// or https:// URL')
          .optional()
          .describe('Node: export spans by OTLP/HTTP to this collector URL (e.g. http://otel-collector:4318/v1/traces). Absent: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / OTEL_EXPORTER_OTLP_ENDPOINT, else no spans leave the process.'),
        serviceName: z.string().min(1).default('neo4j-edge-gateway').describe('service.name of exported spans.'),
      })
      .strict()
      .default({ logLevel: 'info', logFormat: 'json', logParameters: false, serviceName: 'neo4j-edge-gateway' }),
  })
  .strict()
  .superRefine((t, ctx) => {
    const regions = new Set(Object.keys(t.regions));
    const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
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
      issue(['limits', 'maxOpenTransactions'], `must be at most ${usable} (memberPoolSize ${t.limits.memberPoolSize} less the memberPoolReserve share), so explicit transactions never take every connection to a member`);
    }
    if (t.limits.maxOpenTransactionsPerKey > t.limits.maxOpenTransactions) issue(['limits', 'maxOpenTransactionsPerKey'], 'must not exceed maxOpenTransactions');
    const ids = t.apiKeys.map((k) => k.id);
    ids.forEach((id, i) => {
      if (ids.indexOf(id) !== i) issue(['apiKeys', i, 'id'], `duplicate key id "${id}"`);
    });
  });

export type Topology = z.output<typeof TopologySchema>;
export type TopologyInput = z.input<typeof TopologySchema>;
export type ClusterConfig = Topology['clusters'][string];
export type ShardConfig = Topology['shards'][string];
export type CompositeConfig = Topology['composites'][string];
export type ApiKeyConfig = Topology['apiKeys'][number];
export type Limits = Topology['limits'];
export type KeyLimits = z.output<typeof KeyLimitsSchema>;
