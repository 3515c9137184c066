/**
 * API keys: how a key is stored (a hash), which databases and access modes it may use, what it
 * may do beyond reading and writing data (capabilities) and its own limits.
 */
import * as z from 'zod';
import { KeyLimitsSchema } from './schema-limits.js';

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
      .describe(
        'Salted hash of the API key (give this or sha256). "sha256:<salt>:<hex>": SALT=$(openssl rand -hex 16); printf %s "$SALT$KEY" | sha256sum. "pbkdf2-sha256:<iterations>:<salt>:<hex>" (PBKDF2-HMAC-SHA256, 32 bytes): python3 -c \'import hashlib,sys;print(hashlib.pbkdf2_hmac("sha256",sys.argv[1].encode(),sys.argv[2].encode(),int(sys.argv[3])).hex())\' "$KEY" "$SALT" 100000. Salt: any characters but ":" and whitespace; Workers allow at most 100000 iterations.',
      ),
    databases: z.array(z.string().min(1)).min(1).describe('Shards and composites this key may use; "*" for all.'),
    modes: z
      .array(z.enum(['READ', 'WRITE']))
      .min(1)
      .default(['READ', 'WRITE'])
      .describe('Access modes this key may use.'),
    allow: z
      .array(capability)
      .default([])
      .describe(
        'Capabilities beyond reading and writing data: "schema", "show", "terminate", "loadCsv", "impersonate", "admin", "procedures:<pattern>". Default: none.',
      ),
    limits: KeyLimitsSchema.optional().describe('Per-key overrides of the global limits.'),
  })
  .strict()
  .refine((k) => (k.sha256 === undefined) !== (k.hash === undefined), { message: 'give exactly one of "sha256" and "hash"', path: ['hash'] });
