/**
 * Limits: the global ones (requests, statements, results, transactions, connection pools) and
 * those a key may override.
 */
import * as z from 'zod';
import { positiveInt } from './schema-formats.js';

/** Limits a key may override; absent fields take the global value from `limits`. */
export const KeyLimitsSchema = z
  .object({
    maxConcurrent: positiveInt().optional().describe('Requests this key may have running at once on one instance (429 past it).'),
    requestsPerSecond: z
      .number()
      .positive()
      .optional()
      .describe('Fleet-wide rate limit of this key (all instances together; 429 with Retry-After past it). Absent: no rate limit.'),
    burst: positiveInt().optional().describe('Requests this key may send at once above its steady rate (default: one second of requestsPerSecond).'),
    maxOpenTransactions: positiveInt().optional().describe('Explicit transactions this key may hold open at once on one instance.'),
    maxResultBytes: positiveInt().optional().describe('Largest result this key may receive (bytes, measured while rows are converted).'),
    maxRows: positiveInt().optional().describe('Most rows a response to this key may carry.'),
  })
  .strict();

/** The global limits; a key may override some (KeyLimitsSchema). */
export const LimitsSchema = z
  .object({
    maxBodyBytes: z.number().int().positive().default(1048576).describe('Largest request body accepted (bytes).'),
    maxRows: z.number().int().positive().default(100000).describe('Most rows a response may carry; more is an error, never a silent cut.'),
    maxResultBytes: z
      .number()
      .int()
      .positive()
      .default(33554432)
      .describe(
        'Largest result a response may carry (bytes, measured while rows are converted); past it the statement is stopped and the request fails (400 ResultTooLarge).',
      ),
    queryTimeoutMs: z.number().int().positive().default(30000).describe('Transaction timeout sent to Neo4j.'),
    requestDeadlineMs: z.number().int().positive().default(60000).describe('Deadline for one request, retries included.'),
    shardDeadlineMs: z
      .number()
      .int()
      .positive()
      .optional()
      .describe(
        'Deadline for each shard of a fan-out (default: the request deadline). A shard past it fails (or is reported missing with x-gateway-partial: allow).',
      ),
    transactionIdleMs: z.number().int().positive().default(30000).describe('Explicit transactions idle longer than this are rolled back.'),
    maxStatementBytes: z
      .number()
      .int()
      .positive()
      .default(65536)
      .describe('Longest Cypher statement accepted (UTF-8 bytes); longer ones are refused (413) before they are parsed.'),
    parseBudgetMs: z
      .number()
      .int()
      .positive()
      .default(1000)
      .describe('Most time the gateway spends parsing one statement; a statement that takes longer is refused (400 StatementTooComplex).'),
    analysisCacheEntries: z
      .number()
      .int()
      .positive()
      .default(5000)
      .describe('Statements whose analysis (classification and composite plan) is kept, so a repeated statement is never parsed again.'),
    analysisCacheBytes: z
      .number()
      .int()
      .positive()
      .default(33554432)
      .describe('Memory the analysis cache may use (bytes, estimated); the least recently used entries go first.'),
    maxJsonDepth: z
      .number()
      .int()
      .positive()
      .default(64)
      .describe('Deepest nesting of arrays and objects in a request body (parameters included); deeper bodies are refused (400).'),
    maxOpenTransactions: z
      .number()
      .int()
      .positive()
      .default(64)
      .describe('Explicit transactions open at once on one instance, all keys together (must stay below memberPoolSize minus the reserve).'),
    maxOpenTransactionsPerKey: z.number().int().positive().default(8).describe('Explicit transactions one key may hold open at once on one instance.'),
    maxConcurrentPerKey: z.number().int().positive().default(256).describe('Requests one key may have running at once on one instance (429 past it).'),
    maxUnionParts: z
      .number()
      .int()
      .positive()
      .default(64)
      .describe(
        'Most parts a UNION sent to a composite may have (each part may run on every shard); more is refused (400 StatementTooComplex). On one shard Neo4j decides.',
      ),
    maxShardStatementsPerRequest: z
      .number()
      .int()
      .positive()
      .default(8)
      .describe(
        'Statements one composite request runs at once on one shard (the parts of a UNION each run on every shard); the rest wait for one of them to finish, so one request never takes every Bolt thread of a member.',
      ),
    streamAfterRows: z
      .number()
      .int()
      .min(0)
      .default(1000)
      .describe(
        'Rows of a streamable composite answer (concatenation or ordered merge, then SKIP/LIMIT) held before any is sent: an answer that ends within them is sent whole, with its final status; a longer one is sent as rows arrive (202 at once, memory bounded by this window and the fetch size of the driver), and an error after that ends the body with `errors`, as the Query API of Neo4j does.',
      ),
    maxKeyVerifications: z
      .number()
      .int()
      .positive()
      .default(8)
      .describe(
        'Credentials not seen before that one instance checks at once against salted or PBKDF2 key hashes; more are refused (429 AuthenticationRateLimit) rather than let unknown keys spend the CPU. Known keys and recently refused ones are answered from memory.',
      ),
    memberPoolSize: z.number().int().positive().default(100).describe('Connections the gateway keeps to each cluster member at most.'),
    memberPoolReserve: z
      .number()
      .min(0)
      .max(0.9)
      .default(0.2)
      .describe('Share of each member pool kept for auto-commit statements, routing and probes: explicit transactions never take it.'),
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
    maxUnionParts: 64,
    maxShardStatementsPerRequest: 8,
    streamAfterRows: 1000,
    maxKeyVerifications: 8,
    memberPoolSize: 100,
    memberPoolReserve: 0.2,
  });
