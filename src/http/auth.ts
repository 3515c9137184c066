/**
 * API-key auth (DESIGN §9). Keys are stored as hashes, never as keys (apiKeys[].sha256 or
 * apiKeys[].hash):
 *   sha256                    hex SHA-256(key), unsalted
 *   sha256:<salt>:<hex>       hex SHA-256(salt + key)
 *   pbkdf2-sha256:<n>:<salt>:<hex>  hex PBKDF2-HMAC-SHA256(key, salt, n iterations, 32 bytes)
 * A presented key is checked against every configured key, each comparison in constant time and
 * none cut short (timing tells nothing about which key nearly matched). Verified credentials are
 * remembered, by the SHA-256 of the presented secret (never the secret), in a bounded cache per
 * topology, so PBKDF2 is paid once per credential, not per request. Accepted forms:
 *   Authorization: Bearer <key>
 *   Authorization: Bearer <base64(key)>     (what Neo4j's Query API clients send for bearer tokens)
 *   Authorization: Basic base64(<id>:<key>) (Query API clients configured with basic auth)
 */
import type { Capability, KeyLimits, Topology } from '../config/schema.js';
import { Codes, GatewayError } from '../errors/index.js';
import type { AccessMode } from '../transport/types.js';

export interface Principal {
  id: string;
  databases: ReadonlySet<string> | '*';
  modes: ReadonlySet<AccessMode>;
  /** capabilities beyond reading and writing data (apiKeys[].allow) */
  allow: readonly Capability[];
  /** per-key limit overrides (apiKeys[].limits) */
  limits: KeyLimits;
}

/** auth.disabled (local development only): every database, mode and capability */
const ANONYMOUS: Principal = { id: 'anonymous', databases: '*', modes: new Set<AccessMode>(['READ', 'WRITE']), allow: ['admin', 'procedures:*'], limits: {} };

const CHALLENGE = { 'WWW-Authenticate': 'Bearer realm="neo4j-edge-gateway"' };

/** verified credentials kept per topology (most recently used last) */
export const VERIFIED_CACHE_ENTRIES = 1024;
/** refused credentials kept per topology, so a wrong key repeated pays its hashing once */
export const REFUSED_CACHE_ENTRIES = 4096;

function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function bytesToHex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]!]!;
  return out;
}

/** 0 when equal; the time taken depends on the lengths only */
function difference(a: Uint8Array, b: Uint8Array): number {
  let diff = a.length ^ b.length;
  for (let i = 0; i < b.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff;
}

/** SHA-256 of a UTF-8 string. Adapters may inject a faster synchronous one (Node: node:crypto). */
export type Sha256 = (text: string) => Uint8Array | Promise<Uint8Array>;

export const webSha256: Sha256 = async (text) => new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));

/** PBKDF2-HMAC-SHA256, 32 bytes (crypto.subtle: off the event loop on Node; Workers allow at most 100 000 iterations) */
async function pbkdf2Sha256(secret: string, salt: string, iterations: number): Promise<Uint8Array> {
  const te = new TextEncoder();
  const material = await crypto.subtle.importKey('raw', te.encode(secret), 'PBKDF2', false, ['deriveBits']);
  return new Uint8Array(await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt: te.encode(salt), iterations }, material, 256));
}

/** how a configured key is checked */
export type KeyVerifier =
  | { form: 'sha256'; digest: Uint8Array }
  | { form: 'salted-sha256'; salt: string; digest: Uint8Array }
  | { form: 'pbkdf2-sha256'; salt: string; iterations: number; digest: Uint8Array };

/** Reads apiKeys[].sha256 / apiKeys[].hash (already checked by the schema). */
export function keyVerifier(k: { sha256?: string | undefined; hash?: string | undefined }): KeyVerifier {
  if (k.hash !== undefined) {
    const parts = k.hash.split(':');
    if (parts[0] === 'pbkdf2-sha256' && parts.length === 4)
      return { form: 'pbkdf2-sha256', iterations: Number(parts[1]), salt: parts[2]!, digest: hexToBytes(parts[3]!.toLowerCase()) };
    if (parts[0] === 'sha256' && parts.length === 3) return { form: 'salted-sha256', salt: parts[1]!, digest: hexToBytes(parts[2]!.toLowerCase()) };
    throw new Error('unsupported API-key hash form');
  }
  return { form: 'sha256', digest: hexToBytes((k.sha256 ?? '').toLowerCase()) };
}

function tryBase64(s: string): string | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(s) || s.length % 4 !== 0) return undefined;
  try {
    const bin = atob(s);
    const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return /^[\x21-\x7e]+$/.test(text) ? text : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Verified credentials by hex SHA-256 of the presented secret -> index of the key, kept per
 * topology object (plain data: on Workers it outlives the per-request gateway, like the topology).
 */
const verifiedByTopology = new WeakMap<Topology, Map<string, number>>();
/** refused credentials by hex SHA-256 of the presented secret, kept per topology */
const refusedByTopology = new WeakMap<Topology, Set<string>>();

export class ApiKeyAuth {
  private readonly keys: { verifier: KeyVerifier; principal: Principal }[];
  private readonly disabled: boolean;
  private readonly verified: Map<string, number>;
  private readonly refused: Set<string>;
  /** some key is stored salted or as PBKDF2: checking an unknown secret costs real CPU */
  private readonly costly: boolean;
  private readonly maxVerifications: number;
  /** verifications running, by cache key: concurrent requests with one credential share one */
  private readonly pending = new Map<string, Promise<number | undefined>>();

  constructor(
    topology: Topology,
    private readonly sha256: Sha256 = webSha256,
  ) {
    this.disabled = topology.auth.disabled;
    this.keys = topology.apiKeys.map((k) => ({
      verifier: keyVerifier(k),
      principal: {
        id: k.id,
        databases: k.databases.includes('*') ? '*' : new Set(k.databases),
        modes: new Set(k.modes),
        allow: k.allow as Capability[],
        limits: k.limits ?? {},
      },
    }));
    let verified = verifiedByTopology.get(topology);
    if (!verified) {
      verified = new Map();
      verifiedByTopology.set(topology, verified);
    }
    this.verified = verified;
    let refused = refusedByTopology.get(topology);
    if (!refused) {
      refused = new Set();
      refusedByTopology.set(topology, refused);
    }
    this.refused = refused;
    this.costly = this.keys.some((k) => k.verifier.form !== 'sha256');
    this.maxVerifications = topology.limits.maxKeyVerifications;
  }

  /** candidate secrets carried by an Authorization header */
  private static secrets(header: string): string[] {
    const [scheme, ...rest] = header.trim().split(/\s+/);
    const value = rest.join(' ');
    if (!scheme || !value) return [];
    switch (scheme.toLowerCase()) {
      case 'bearer': {
        const decoded = tryBase64(value);
        return decoded !== undefined && decoded !== value ? [value, decoded] : [value];
      }
      case 'basic': {
        const decoded = tryBase64(value);
        if (decoded === undefined) {
          // allow non-ASCII-printable passwords too
          try {
            const raw = atob(value);
            const i = raw.indexOf(':');
            return i >= 0 ? [raw.slice(i + 1)] : [];
          } catch {
            return [];
          }
        }
        const i = decoded.indexOf(':');
        return i >= 0 ? [decoded.slice(i + 1)] : [];
      }
      default:
        return [];
    }
  }

  /** Checks the Authorization header; throws 401 on no key or a wrong key. */
  async authenticate(header: string | undefined | null): Promise<Principal> {
    if (this.disabled) return ANONYMOUS;
    if (!header) {
      throw new GatewayError(Codes.Unauthorized, 'No authentication header supplied. Send "Authorization: Bearer <api key>".', { headers: CHALLENGE });
    }
    for (const secret of ApiKeyAuth.secrets(header).slice(0, 2)) {
      const digest = await this.sha256(secret);
      const cacheKey = bytesToHex(digest);
      const known = this.verified.get(cacheKey);
      if (known !== undefined) {
        // most recently used last: the oldest entry is the first to go
        this.verified.delete(cacheKey);
        this.verified.set(cacheKey, known);
        return this.keys[known]!.principal;
      }
      if (this.refused.has(cacheKey)) continue;
      let running = this.pending.get(cacheKey);
      if (!running) {
        // unknown secrets may not spend the instance's CPU on key derivations without bound
        if (this.costly && this.pending.size >= this.maxVerifications) {
          throw new GatewayError(
            Codes.AuthenticationRateLimit,
            `Too many new API keys are being checked at once on this gateway instance (limits.maxKeyVerifications: ${this.maxVerifications}); retry shortly.`,
            { headers: { 'Retry-After': '1' } },
          );
        }
        running = this.verify(secret, digest).finally(() => this.pending.delete(cacheKey));
        this.pending.set(cacheKey, running);
      }
      const index = await running;
      if (index !== undefined) {
        this.remember(cacheKey, index);
        return this.keys[index]!.principal;
      }
      this.refuse(cacheKey);
    }
    throw new GatewayError(Codes.Unauthorized, 'Invalid API key.', { headers: CHALLENGE });
  }

  /** the index of the key `secret` matches, comparing against every key (no early exit) */
  private async verify(secret: string, digest: Uint8Array): Promise<number | undefined> {
    let found: number | undefined;
    for (let i = 0; i < this.keys.length; i++) {
      const v = this.keys[i]!.verifier;
      let expected: Uint8Array;
      if (v.form === 'sha256') expected = digest;
      else if (v.form === 'salted-sha256') expected = await this.sha256(v.salt + secret);
      else expected = await pbkdf2Sha256(secret, v.salt, v.iterations);
      if (difference(expected, v.digest) === 0 && found === undefined) found = i;
    }
    return found;
  }

  private refuse(cacheKey: string): void {
    if (this.refused.size >= REFUSED_CACHE_ENTRIES) {
      const oldest = this.refused.values().next().value;
      if (oldest !== undefined) this.refused.delete(oldest);
    }
    this.refused.add(cacheKey);
  }

  private remember(cacheKey: string, index: number): void {
    if (this.verified.has(cacheKey)) return;
    if (this.verified.size >= VERIFIED_CACHE_ENTRIES) {
      const oldest = this.verified.keys().next().value;
      if (oldest !== undefined) this.verified.delete(oldest);
    }
    this.verified.set(cacheKey, index);
  }

  /** Checks that the principal may use `database` in `mode`; throws 403 otherwise. */
  static authorize(p: Principal, database: string, mode: AccessMode): void {
    if (p.databases !== '*' && !p.databases.has(database)) {
      throw new GatewayError(Codes.Forbidden, `API key '${p.id}' may not access database '${database}'.`);
    }
    if (!p.modes.has(mode)) {
      throw new GatewayError(Codes.Forbidden, `API key '${p.id}' may not run ${mode} statements.`);
    }
  }
}
