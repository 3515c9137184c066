/**
 * The gateway's own sections: the shared cache, API-key auth, HTTP and CORS, the fleet secret,
 * GraphQL, routing and observability.
 */
import * as z from 'zod';
import { envName, name } from './schema-formats.js';

/** The cache shared by the gateway fleet (Redis), or none. */
export const CacheSchema = z
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
  .default({ keyPrefix: 'n4gw:' });

/** API-key auth: on or off, and the ops endpoints served without a key. */
export const AuthSchema = z
  .object({
    disabled: z.boolean().default(false).describe('Turn API-key auth off (local development only).'),
    publicEndpoints: z
      .array(z.enum(['metrics', 'topology']))
      .default([])
      .describe('Ops endpoints served without a key (e.g. ["metrics"] for a Prometheus scraper on a private network). /health and /ready never need one.'),
  })
  .strict()
  .default({ disabled: false, publicEndpoints: [] });

/** How clients reach the gateway, and which proxies are believed. */
export const HttpSchema = z
  .object({
    publicUrl: z
      .string()
      .regex(/^https?:\/\/[^\s/]+(\/[^\s]*)?$/, 'must be an http:// or https:// URL')
      .optional()
      .describe(
        "The URL clients reach the gateway at (discovery document). Absent: the request's own URL, with X-Forwarded-Host/-Proto honoured only from trustedProxies.",
      ),
    trustedProxies: z
      .array(z.string().min(1))
      .default([])
      .describe('Addresses (IPv4/IPv6, or CIDR ranges) of proxies whose X-Forwarded-* headers are believed.'),
  })
  .strict()
  .default({ trustedProxies: [] });

/** Where the fleet secret is read from. */
export const SecretsSchema = z
  .object({
    fleetSecretEnv: envName
      .default('GATEWAY_SECRET')
      .describe(
        'Environment variable (or Worker secret) holding the fleet secret: it signs transaction ids and authenticates routing tables in Redis. Required (at least 32 characters) whenever Redis or Neo4j-held transactions are used.',
      ),
  })
  .strict()
  .default({ fleetSecretEnv: 'GATEWAY_SECRET' });

/** Which browser origins may call the gateway. */
export const CorsSchema = z
  .object({
    origins: z
      .array(z.string().min(1))
      .default(['*'])
      .describe('Origins browsers may call the gateway from ("*": any; keys travel in Authorization headers, never cookies). Empty: no CORS headers.'),
  })
  .strict()
  .default({ origins: ['*'] });

/** The GraphQL endpoint: its SDL files and its operation limits. */
export const GraphqlSchema = z
  .object({
    schema: z
      .array(z.string().min(1))
      .default([])
      .describe('GraphQL SDL files (paths relative to the topology file) with @cypher fields; none: /graphql is off.'),
    maxDepth: z.number().int().positive().default(8).describe('Deepest selection a GraphQL operation may have.'),
    maxAliases: z.number().int().nonnegative().default(20).describe('Most aliased fields in one operation.'),
    maxCost: z.number().int().positive().default(100).describe('Most cost per operation: each @cypher field costs the number of shards its database spans.'),
    persistedDocuments: z
      .record(z.string().regex(/^[0-9a-f]{64}$/, 'must be the hex SHA-256 of the document'), z.string())
      .optional()
      .describe('Allow-list of operations by SHA-256; with it, only these documents run.'),
    graphiql: z.boolean().default(true).describe('Serve GraphiQL at GET /graphql (turn off in production).'),
  })
  .strict()
  .default({ schema: [], maxDepth: 8, maxAliases: 20, maxCost: 100, graphiql: true });

/** Routing of statements to cluster members, and drained shards. */
export const RoutingSchema = z
  .object({
    strictRegionPin: z.boolean().default(false).describe('A pinned read with no reader in the pinned region fails (503) instead of leaving the region.'),
    maxRoutingTableTtlSeconds: z.number().int().positive().default(300).describe('Upper bound on the TTL a routing table is cached for.'),
    drainedShards: z
      .array(name)
      .default([])
      .describe(
        'Shards drained for maintenance (a restore): every statement for them, alone or in a fan-out, answers 503 ShardDrained with Retry-After; nothing is sent to their cluster.',
      ),
    drainRetryAfterSeconds: z.number().int().positive().default(60).describe("Retry-After of a drained shard's 503."),
    retry: z
      .object({
        maxFailoverAttempts: z
          .number()
          .int()
          .positive()
          .default(8)
          .describe('Attempts in all for a statement whose member failed (reads; writes not sent) or refused as no longer the leader (writes).'),
        maxTransientAttempts: z.number().int().positive().default(5).describe('Attempts in all for a statement that met a retriable transient error.'),
        initialBackoffMs: z.number().int().nonnegative().default(50).describe('Wait before the first retry; doubles per retry.'),
        maxBackoffMs: z.number().int().nonnegative().default(1000).describe('Longest wait between two attempts.'),
      })
      .strict()
      .default({ maxFailoverAttempts: 8, maxTransientAttempts: 5, initialBackoffMs: 50, maxBackoffMs: 1000 })
      .describe('How statements are retried (as the Neo4j drivers do), always within limits.requestDeadlineMs.'),
  })
  .strict()
  .default({
    strictRegionPin: false,
    maxRoutingTableTtlSeconds: 300,
    drainedShards: [],
    drainRetryAfterSeconds: 60,
    retry: { maxFailoverAttempts: 8, maxTransientAttempts: 5, initialBackoffMs: 50, maxBackoffMs: 1000 },
  });

/** Logs and spans. */
export const ObservabilitySchema = z
  .object({
    logLevel: z.enum(['debug', 'info', 'warn', 'error']).default('info').describe('Least severe log lines written (Node: LOG_LEVEL overrides).'),
    logFormat: z
      .enum(['json', 'pretty'])
      .default('json')
      .describe('json: one JSON object per line; pretty: short lines for a terminal (Node: LOG_FORMAT overrides).'),
    logParameters: z
      .boolean()
      .default(false)
      .describe(
        'Debugging only: request log lines carry the statement and its parameter values. Off (the default): no statement text, parameter value, key or secret is ever logged.',
      ),
    otlpEndpoint: z
      .string()
      .regex(/^https?:\/\//, 'must be an http:// or https:// URL')
      .optional()
      .describe(
        'Node: export spans by OTLP/HTTP to this collector URL (e.g. http://otel-collector:4318/v1/traces). Absent: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / OTEL_EXPORTER_OTLP_ENDPOINT, else no spans leave the process.',
      ),
    serviceName: z.string().min(1).default('neo4j-edge-gateway').describe('service.name of exported spans.'),
  })
  .strict()
  .default({ logLevel: 'info', logFormat: 'json', logParameters: false, serviceName: 'neo4j-edge-gateway' });
