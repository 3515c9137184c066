/**
 * Signed transaction ids for transactions Neo4j holds (HTTP transports): the id carries the member,
 * Neo4j's own transaction id and affinity, and the API key it belongs to, under an HMAC-SHA256,
 * so any gateway instance can continue it and no other key can.
 *
 * The key is the fleet secret (secrets.fleetSecretEnv), shared by every instance and used for
 * nothing the gateway derives from other secrets: never a constant, never the cluster passwords.
 */
import { ConfigError, jsonPath } from '../../config/load.js';
import { FLEET_SECRET_MIN_LENGTH } from '../../config/fleet-secret.js';
import { Codes, GatewayError } from '../../errors/index.js';
import { base64ToBytes, bytesToBase64Url } from '../../values/format.js';

/** what a signed id carries: where Neo4j holds the transaction, and whose it is */
export interface RemoteTx {
  cluster: string;
  /** the member's Bolt address ("host:port") */
  member: string;
  /** the Neo4j database name of the shard */
  database: string;
  shard: string;
  /** the database the client named (/db/{db}): the id is valid there only */
  requested: string;
  mode: 'READ' | 'WRITE';
  /** Neo4j's own transaction id, and its cluster affinity */
  neo4jId: string;
  affinity?: string;
  /** the API key it belongs to */
  apiKey: string;
}

export class TxTokens {
  private key: Promise<CryptoKey>;
  constructor(secret: string) {
    // a short or constant key would let anyone mint ids for other keys' transactions
    if (secret.length < FLEET_SECRET_MIN_LENGTH)
      throw new ConfigError([
        `${jsonPath(['secrets', 'fleetSecretEnv'])}: transaction ids need the fleet secret (at least ${FLEET_SECRET_MIN_LENGTH} characters); none was given to the gateway`,
      ]);
    this.key = crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
  }

  async sign(tx: RemoteTx): Promise<string> {
    const payload = bytesToBase64Url(new TextEncoder().encode(JSON.stringify(tx)));
    const sig = new Uint8Array(await crypto.subtle.sign('HMAC', await this.key, new TextEncoder().encode(payload)));
    return `r2.${payload}.${bytesToBase64Url(sig)}`;
  }

  async verify(token: string, principal: string, database: string): Promise<RemoteTx> {
    const notFound = () =>
      new GatewayError(Codes.RequestInvalid, `Transaction with Id: "${token.slice(0, 80)}" was not found. It may have timed out and therefore rolled back.`, {
        status: 404,
      });
    const [v, payload, sig] = token.split('.');
    if (v !== 'r2' || !payload || !sig) throw notFound();
    let ok = false;
    try {
      ok = await crypto.subtle.verify('HMAC', await this.key, base64ToBytes(sig), new TextEncoder().encode(payload));
    } catch {
      ok = false;
    }
    if (!ok) throw notFound();
    const tx = JSON.parse(new TextDecoder().decode(base64ToBytes(payload))) as RemoteTx;
    if (tx.apiKey !== principal || tx.requested !== database) throw notFound();
    return tx;
  }
}
