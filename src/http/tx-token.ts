/**
 * Signed transaction ids for transactions Neo4j holds (HTTP transports): the id carries the member,
 * Neo4j's own transaction id and affinity, and the API key it belongs to, under an HMAC-SHA256,
 * so any gateway instance can continue it and no other key can.
 */
import { Codes, GatewayError } from '../errors/index.js';
import { base64ToBytes, bytesToBase64Url } from '../transport/format.js';

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
