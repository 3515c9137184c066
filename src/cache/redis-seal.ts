/**
 * Seals for what the fleet shares through Redis: HMAC-SHA256 under the fleet secret, bound to a
 * context (the key or channel), so whoever can write Redis cannot forge a value or a message, nor
 * move a sealed one to another key or channel. Runtime-neutral (Web Crypto).
 */

const SEAL_VERSION = 'h1';
const SEAL_HEX = 64;

function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

function fromHex(hex: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[0-9a-f]*$/.test(hex) || hex.length % 2 !== 0) return undefined;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/**
 * HMAC-SHA256 seals: `h1.<hex mac>.<payload>`, the MAC over the context (which key or channel)
 * and the payload, so a sealed value cannot be moved to another key or channel.
 */
export class Sealer {
  private key: Promise<CryptoKey> | undefined;
  constructor(private readonly secret: string) {
    if (secret === '') throw new Error('the fleet secret is empty');
  }

  private cryptoKey(): Promise<CryptoKey> {
    this.key ??= crypto.subtle.importKey('raw', new TextEncoder().encode(this.secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
    return this.key;
  }

  private static input(context: string, payload: string): Uint8Array<ArrayBuffer> {
    return new TextEncoder().encode(`${SEAL_VERSION}\n${context}\n${payload}`);
  }

  async seal(context: string, payload: string): Promise<string> {
    const mac = new Uint8Array(await crypto.subtle.sign('HMAC', await this.cryptoKey(), Sealer.input(context, payload)));
    return `${SEAL_VERSION}.${toHex(mac)}.${payload}`;
  }

  /** the payload, or undefined when the seal is missing, malformed or wrong */
  async open(context: string, sealed: string): Promise<string | undefined> {
    const head = SEAL_VERSION.length + 1;
    if (!sealed.startsWith(`${SEAL_VERSION}.`) || sealed.charAt(head + SEAL_HEX) !== '.') return undefined;
    const mac = fromHex(sealed.slice(head, head + SEAL_HEX));
    if (!mac) return undefined;
    const payload = sealed.slice(head + SEAL_HEX + 1);
    const ok = await crypto.subtle.verify('HMAC', await this.cryptoKey(), mac, Sealer.input(context, payload));
    return ok ? payload : undefined;
  }
}
