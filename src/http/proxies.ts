/**
 * Trusted proxies (http.trustedProxies): IPv4/IPv6 addresses and CIDR ranges, and the forwarded
 * headers believed only from them. Pure: no I/O, no clock.
 */
import { jsonPath } from '../config/load.js';

/** An IP address as 16 bytes (IPv4 as IPv4-mapped IPv6, so ::ffff:10.0.0.1 and 10.0.0.1 are one address). */
export function parseIp(text: string): Uint8Array | undefined {
  let t = text.trim();
  if (t.startsWith('[') && t.endsWith(']')) t = t.slice(1, -1);
  const zone = t.indexOf('%');
  if (zone >= 0) t = t.slice(0, zone);
  const v4 = (s: string): number[] | undefined => {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
    if (!m) return undefined;
    const bytes = m.slice(1).map(Number);
    return bytes.every((b) => b <= 255) ? bytes : undefined;
  };
  const four = v4(t);
  if (four) return Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...four]);
  if (!t.includes(':')) return undefined;
  // an IPv4 tail (::ffff:1.2.3.4) counts as two groups
  let tail: number[] = [];
  const lastColon = t.lastIndexOf(':');
  if (t.slice(lastColon + 1).includes('.')) {
    const embedded = v4(t.slice(lastColon + 1));
    if (!embedded) return undefined;
    tail = embedded;
    t = t.slice(0, lastColon + 1) + '0:0';
  }
  const halves = t.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string): number[] | undefined => {
    if (s === '') return [];
    const parts = s.split(':');
    return parts.every((p) => /^[0-9a-fA-F]{1,4}$/.test(p)) ? parts.map((p) => parseInt(p, 16)) : undefined;
  };
  const head = groups(halves[0]!);
  const rest = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !rest) return undefined;
  const missing = 8 - head.length - rest.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...Array<number>(missing).fill(0), ...rest];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  if (tail.length === 4) out.set(tail, 12);
  return out;
}

export interface AddressRange {
  bytes: Uint8Array;
  /** leading bits that must match (IPv4 ranges count the 96 bits of the mapped prefix) */
  bits: number;
}

/** Reads http.trustedProxies: each entry an address or a CIDR range; `problems` names the bad ones by JSON path. */
export function parseTrustedProxies(entries: readonly string[]): { ranges: AddressRange[]; problems: string[] } {
  const ranges: AddressRange[] = [];
  const problems: string[] = [];
  entries.forEach((entry, i) => {
    const [addr = '', len, extra] = entry.trim().split('/');
    const bytes = parseIp(addr);
    const v4 = bytes !== undefined && !addr.includes(':');
    const max = v4 ? 32 : 128;
    const prefix = len === undefined ? max : /^\d{1,3}$/.test(len) ? Number(len) : NaN;
    if (!bytes || extra !== undefined || !(prefix >= 0 && prefix <= max)) {
      problems.push(`${jsonPath(['http', 'trustedProxies', i])}: must be an IPv4 or IPv6 address, or a CIDR range such as "10.0.0.0/8" or "fd00::/8"`);
      return;
    }
    ranges.push({ bytes, bits: v4 ? 96 + prefix : prefix });
  });
  return { ranges, problems };
}

export function inRanges(address: string | undefined, ranges: readonly AddressRange[]): boolean {
  if (address === undefined || ranges.length === 0) return false;
  const ip = parseIp(address);
  if (!ip) return false;
  return ranges.some(({ bytes, bits }) => {
    for (let i = 0; i < 16 && i * 8 < bits; i++) {
      const take = Math.min(8, bits - i * 8);
      const mask = (0xff << (8 - take)) & 0xff;
      if ((ip[i]! & mask) !== (bytes[i]! & mask)) return false;
    }
    return true;
  });
}

/** the value a proxy added last to a list header ("a, b" -> "b") */
export function lastValue(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const v = header.split(',').pop()?.trim();
  return v === '' ? undefined : v;
}

export const FORWARDED_HOST = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/;
