/** Text formats shared by every transport and renderer (pure). */
import { javaDoubleToString } from '../values/java-double.js';

export function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/**
 * A float as Java's Double.toString prints it on JDK 17 (what Neo4j 5.26 emits): "1.0", "1.5",
 * "1.0E20", "1.0E-5", "NaN", "Infinity", and JDK 17's longer digits where it prints them
 * ("9.999999999999999E22" for 1e23). See src/values/java-double.ts.
 */
export function formatFloat(f: number): string {
  return javaDoubleToString(f);
}

/**
 * A duration as Neo4j prints it: P[nY][nM][nD][T[nH][nM][n[.n]S]], "PT0S" when zero.
 * months/days/seconds/nanos as Neo4j stores them.
 */
export function formatDurationParts(months: number, days: number, seconds: number, nanos: number): string {
  let out = 'P';
  const years = Math.trunc(months / 12);
  const mo = months % 12;
  if (years) out += `${years}Y`;
  if (mo) out += `${mo}M`;
  if (days) out += `${days}D`;
  // normalise seconds + nanos to a single sign like java.time.Duration
  let totalNanos = BigInt(seconds) * 1_000_000_000n + BigInt(nanos);
  if (totalNanos !== 0n) {
    const neg = totalNanos < 0n;
    if (neg) totalNanos = -totalNanos;
    const secs = totalNanos / 1_000_000_000n;
    const ns = totalNanos % 1_000_000_000n;
    const h = secs / 3600n;
    const m = (secs % 3600n) / 60n;
    const s = secs % 60n;
    const sign = neg ? '-' : '';
    out += 'T';
    if (h) out += `${sign}${h}H`;
    if (m) out += `${sign}${m}M`;
    if (s || ns) {
      out += `${sign}${s}`;
      if (ns) out += '.' + ns.toString().padStart(9, '0').replace(/0+$/, '');
      out += 'S';
    }
  }
  return out === 'P' ? 'PT0S' : out;
}

/** Bytes -> standard base64 (chunked, so large byte arrays do not overflow the call stack). */
export function bytesToBase64(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

/** Standard or URL-safe base64 (padding optional) -> bytes; throws on invalid input. */
export function base64ToBytes(b64: string): Uint8Array<ArrayBuffer> {
  const std = b64.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(std + '='.repeat((4 - (std.length % 4)) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Bytes -> URL-safe base64 without padding (tokens in headers and URLs). */
export function bytesToBase64Url(bytes: Uint8Array): string {
  return bytesToBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
