/**
 * API-key auth (DESIGN §9). Keys are stored as SHA-256 hashes and compared in constant time
 * against every configured key (no early exit, so timing tells nothing about which key nearly
 * matched). Accepted forms:
 *   Authorization: Bearer <key>
 *   Authorization: Bearer <base64(key)>     (what Neo4j's Query API clients send for bearer tokens)
 *   Authorization: Basic base64(<id>:<key>) (Query API clients configured with basic auth)
 */
import type { ApiKeyConfig, Capability, KeyLimits, Topology } from '../config/schema.js';
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

function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** SHA-256 of a UTF-8 string. Adapters may inject a faster synchronous one (Node: node:crypto). */
export type Sha256 = (text: string) => Uint8Array | Promise<Uint8Array>;

export const webSha256: Sha256 = async (text) => new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));

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

export class ApiKeyAuth {
  private readonly keys: { config: ApiKeyConfig; hash: Uint8Array; principal: Principal }[];
  private readonly disabled: boolean;

  constructor(
    topology: Topology,
    private readonly sha256: Sha256 = webSha256,
  ) {
    this.disabled = topology.auth.disabled;
    this.keys = topology.apiKeys.map((k) => ({
      config: k,
      hash: hexToBytes((k.sha256 ?? '').toLowerCase()),
      principal: {
        id: k.id,
        databases: k.databases.includes('*') ? '*' : new Set(k.databases),
        modes: new Set(k.modes),
        allow: k.allow as Capability[],
        limits: k.limits ?? {},
      },
    }));
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
      throw new GatewayError(Codes.Unauthorized, 'No authentication header supplied. Send "Authorization: Bearer <api key>".', { status: 401, headers: CHALLENGE });
    }
    const secrets = ApiKeyAuth.secrets(header).slice(0, 2);
    let found: Principal | undefined;
    for (const secret of secrets) {
      const digest = await this.sha256(secret);
      for (const k of this.keys) {
        let diff = 0;
        for (let i = 0; i < 32; i++) diff |= (digest[i] ?? 0) ^ (k.hash[i] ?? 0);
        if (diff === 0 && found === undefined) found = k.principal;
      }
    }
    if (!found) {
      throw new GatewayError(Codes.Unauthorized, 'Invalid API key.', { status: 401, headers: CHALLENGE });
    }
    return found;
  }

  /** Checks that the principal may use `database` in `mode`; throws 403 otherwise. */
  static authorize(p: Principal, database: string, mode: AccessMode): void {
    if (p.databases !== '*' && !p.databases.has(database)) {
      throw new GatewayError(Codes.Forbidden, `API key '${p.id}' may not access database '${database}'.`, { status: 403 });
    }
    if (!p.modes.has(mode)) {
      throw new GatewayError(Codes.Forbidden, `API key '${p.id}' may not run ${mode} statements.`, { status: 403 });
    }
  }
}
