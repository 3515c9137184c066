/** Text formats shared by every transport and renderer (pure). */
import { durationOf, formatDuration } from '../values/duration.js';
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
 * Zones whose rules are a single fixed offset in the JDK's tzdb (ZoneId.normalized() is a
 * ZoneOffset): Neo4j's Query API writes a DateTime in one of them as an OffsetDateTime ("...Z",
 * "...-01:00"), not a ZonedDateTime with the zone name. Listed from what Neo4j 5.26 on JDK 17
 * answers for every zone it accepts (EST, MST and HST are not fixed in current tzdata).
 */
const FIXED_OFFSET_ZONES = new Set([
  'UTC',
  'UCT',
  'GMT',
  'GMT0',
  'Greenwich',
  'Universal',
  'Zulu',
  'Etc/UTC',
  'Etc/UCT',
  'Etc/GMT',
  'Etc/GMT0',
  'Etc/GMT+0',
  'Etc/GMT-0',
  'Etc/Greenwich',
  'Etc/Universal',
  'Etc/Zulu',
  ...Array.from({ length: 12 }, (_, i) => `Etc/GMT+${i + 1}`),
  ...Array.from({ length: 14 }, (_, i) => `Etc/GMT-${i + 1}`),
  'SystemV/AST4',
  'SystemV/CST6',
  'SystemV/EST5',
  'SystemV/HST10',
  'SystemV/MST7',
  'SystemV/PST8',
  'SystemV/YST9',
]);

export function isFixedOffsetZone(zone: string): boolean {
  return FIXED_OFFSET_ZONES.has(zone);
}

/**
 * A duration as Neo4j prints it: P[nY][nM][nD][T[nH][nM][n[.n]S]], "PT0S" when zero, from
 * months/days/seconds/nanos as Neo4j stores them (src/values/duration.ts).
 */
export function formatDurationParts(months: number, days: number, seconds: number, nanos: number): string {
  return formatDuration(durationOf(BigInt(months), BigInt(days), BigInt(seconds), BigInt(nanos)));
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
