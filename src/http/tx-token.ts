/**
 * Signed transaction ids for transactions Neo4j holds (HTTP transports): the id carries the member,
 * Neo4j's own transaction id and affinity, and the API key it belongs to, under an HMAC-SHA256,
 * so any gateway instance can continue it and no other key can.
 *
 * The key is the fleet secret (secrets.fleetSecretEnv), shared by every instance and used for
 * nothing the gateway derives from other secrets: never a constant, never the cluster passwords.
 */
import { ConfigError, jsonPath } from '../config/load.js';
import type { Topology } from '../config/schema.js';
import { Codes, GatewayError } from '../errors/index.js';
import { base64ToBytes, bytesToBase64Url } from '../values/format.js';

/** the shortest fleet secret accepted (characters) */
export const FLEET_SECRET_MIN_LENGTH = 32;

/**
 * The fleet secret, from the variable (Node: environment; Workers: secret binding) the topology
 * names in secrets.fleetSecretEnv. `requiredBy` lists why this gateway needs it (signed
 * transaction ids, Redis); when it is needed and absent, or set but too short, a ConfigError
 * names the variable, never its value.
 */
export function resolveFleetSecret(topology: Topology, lookup: (name: string) => string | undefined, requiredBy: string[]): string | undefined {
  const name = topology.secrets.fleetSecretEnv;
  const value = lookup(name);
  const where = jsonPath(['secrets', 'fleetSecretEnv']);
  const advice = `set ${name} to the same random value of at least ${FLEET_SECRET_MIN_LENGTH} characters on every instance (e.g. openssl rand -base64 48)`;
  if (value === undefined || value === '') {
    if (requiredBy.length === 0) return undefined;
    throw new ConfigError([`${where}: the fleet secret ${name} is not set; it is required because ${requiredBy.join(' and ')}: ${advice}`]);
  }
  if (value.length < FLEET_SECRET_MIN_LENGTH) throw new ConfigError([`${where}: the fleet secret ${name} is shorter than ${FLEET_SECRET_MIN_LENGTH} characters: ${advice}`]);
  return value;
}

export interface RemoteTx {
  /** cluster, member address, Neo4j database, shard, gateway database name */
  c: string;
  a: string;
  d: string;
  s: string;
  g: string;
  /** Neo4j's transaction id and cluster affinity */
  i: string;
  f?: string;
  /** API key id */
  p: string;
}

export class TxTokens {
  private key: Promise<CryptoKey>;
  constructor(secret: string) {
    // a short or constant key would let anyone mint ids for other keys' transactions
    if (secret.length < FLEET_SECRET_MIN_LENGTH) throw new ConfigError([`${jsonPath(['secrets', 'fleetSecretEnv'])}: transaction ids need the fleet secret (at least ${FLEET_SECRET_MIN_LENGTH} characters); none was given to the gateway`]);
    this.key = crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
  }

  async sign(tx: RemoteTx): Promise<string> {
    const payload = bytesToBase64Url(new TextEncoder().encode(JSON.stringify(tx)));
    const sig = new Uint8Array(await crypto.subtle.sign('HMAC', await this.key, new TextEncoder().encode(payload)));
    return `r1.${payload}.${bytesToBase64Url(sig)}`;
  }

  async verify(token: string, principal: string, database: string): Promise<RemoteTx> {
    const notFound = () =>
      new GatewayError(Codes.RequestInvalid, `Transaction with Id: "${token.slice(0, 80)}" was not found. It may have timed out and therefore rolled back.`, { status: 404 });
    const [v, payload, sig] = token.split('.');
    if (v !== 'r1' || !payload || !sig) throw notFound();
    let ok = false;
    try {
      ok = await crypto.subtle.verify('HMAC', await this.key, base64ToBytes(sig), new TextEncoder().encode(payload));
    } catch {
      ok = false;
    }
    if (!ok) throw notFound();
    const tx = JSON.parse(new TextDecoder().decode(base64ToBytes(payload))) as RemoteTx;
    if (tx.p !== principal || tx.g !== database) throw notFound();
    return tx;
  }
}
