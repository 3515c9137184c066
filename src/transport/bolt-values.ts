/**
 * neo4j-driver values <-> typed JSON values (the Query API's `application/vnd.neo4j.query`
 * encoding). Formats follow what Neo4j's own Query API emits, so a Bolt-backed gateway answers
 * byte-for-byte like the server would.
 */
import neo4j, {
  Date as NeoDate,
  DateTime,
  Duration,
  type Integer,
  LocalDateTime,
  LocalTime,
  Point,
  Time,
  isDate,
  isDateTime,
  isDuration,
  isLocalDateTime,
  isLocalTime,
  isPoint,
  isTime,
  isNode,
  isRelationship,
  isPath,
} from 'neo4j-driver';
import { Codes, GatewayError } from '../errors/index.js';
import type { TypedValue } from '../values/typed.js';
import { base64ToBytes, bytesToBase64, formatFloat, isFixedOffsetZone, pad } from '../values/format.js';
import { durationOf, formatDuration } from '../values/duration.js';

type AnyInt = number | Integer | bigint;
const num = (v: AnyInt): number => (typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : v.toNumber());
const big = (v: AnyInt): bigint => (typeof v === 'bigint' ? v : typeof v === 'number' ? BigInt(v) : BigInt(v.toString()));

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * A string as Neo4j receives it from its own Query API: Java encodes a lone surrogate (which no
 * UTF-8 text can hold) as '?', where JavaScript's encoder would send U+FFFD.
 */
function boltString(s: string): string {
  return s.replace(LONE_SURROGATE, '?');
}

function fmtYear(y: number): string {
  if (y >= 0 && y <= 9999) return pad(y, 4);
  return (y < 0 ? '-' : '+') + pad(Math.abs(y), 4);
}

function fmtNanos(ns: number): string {
  if (ns === 0) return '';
  return '.' + pad(ns, 9).replace(/0+$/, '');
}

function fmtTime(h: AnyInt, m: AnyInt, s: AnyInt, ns: AnyInt): string {
  return `${pad(num(h), 2)}:${pad(num(m), 2)}:${pad(num(s), 2)}${fmtNanos(num(ns))}`;
}

function fmtOffset(offsetSeconds: number): string {
  if (offsetSeconds === 0) return 'Z';
  const sign = offsetSeconds < 0 ? '-' : '+';
  const abs = Math.abs(offsetSeconds);
  const h = Math.floor(abs / 3600);
  const m = Math.floor((abs % 3600) / 60);
  const s = abs % 60;
  return `${sign}${pad(h, 2)}:${pad(m, 2)}${s ? ':' + pad(s, 2) : ''}`;
}

function fmtDate(y: AnyInt, m: AnyInt, d: AnyInt): string {
  return `${fmtYear(num(y))}-${pad(num(m), 2)}-${pad(num(d), 2)}`;
}

/** Offset (seconds) of a zone at a local date-time, computed with Intl (no zone database of our own). */
function zoneOffsetSeconds(zone: string, dt: DateTime): number {
  const utcGuess = Date.UTC(num(dt.year), num(dt.month) - 1, num(dt.day), num(dt.hour), num(dt.minute), num(dt.second));
  const fmt = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  const at = (ms: number) => {
    const parts = Object.fromEntries(fmt.formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
    const asUtc = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
    return (asUtc - ms) / 1000;
  };
  const first = at(utcGuess);
  return at(utcGuess - first * 1000);
}

export function fromDriver(value: unknown): TypedValue {
  if (value === null || value === undefined) return { $type: 'Null', _value: null };
  switch (typeof value) {
    case 'boolean':
      return { $type: 'Boolean', _value: value };
    case 'string':
      return { $type: 'String', _value: value };
    case 'number':
      return { $type: 'Float', _value: formatFloat(value) };
    case 'bigint':
      return { $type: 'Integer', _value: value.toString() };
    default:
      break;
  }
  if (neo4j.isInt(value)) return { $type: 'Integer', _value: (value as Integer).toString() };
  if (Array.isArray(value)) return { $type: 'List', _value: value.map(fromDriver) };
  if (value instanceof Int8Array || value instanceof Uint8Array) {
    return { $type: 'Base64', _value: bytesToBase64(new Uint8Array(value.buffer, value.byteOffset, value.byteLength)) };
  }
  if (isNode(value)) {
    return { $type: 'Node', _value: { _element_id: value.elementId, _labels: [...value.labels], _properties: mapOf(value.properties) } };
  }
  if (isRelationship(value)) {
    return {
      $type: 'Relationship',
      _value: {
        _element_id: value.elementId,
        _start_node_element_id: value.startNodeElementId,
        _end_node_element_id: value.endNodeElementId,
        _type: value.type,
        _properties: mapOf(value.properties),
      },
    };
  }
  if (isPath(value)) {
    const out: TypedValue[] = [fromDriver(value.start)];
    for (const seg of value.segments) out.push(fromDriver(seg.relationship), fromDriver(seg.end));
    return { $type: 'Path', _value: out };
  }
  if (isPoint(value)) {
    const p = value as Point;
    const srid = num(p.srid);
    const z = p.z;
    return {
      $type: 'Point',
      // a z of NaN reads as 2D, as Neo4j's Query API writes it
      _value:
        z === undefined || z === null || Number.isNaN(z)
          ? `SRID=${srid};POINT (${formatFloat(p.x)} ${formatFloat(p.y)})`
          : `SRID=${srid};POINT Z (${formatFloat(p.x)} ${formatFloat(p.y)} ${formatFloat(z)})`,
    };
  }
  if (isDate(value)) {
    const d = value as NeoDate;
    return { $type: 'Date', _value: fmtDate(d.year, d.month, d.day) };
  }
  if (isLocalTime(value)) {
    const t = value as LocalTime;
    return { $type: 'LocalTime', _value: fmtTime(t.hour, t.minute, t.second, t.nanosecond) };
  }
  if (isTime(value)) {
    const t = value as Time;
    return { $type: 'Time', _value: fmtTime(t.hour, t.minute, t.second, t.nanosecond) + fmtOffset(num(t.timeZoneOffsetSeconds)) };
  }
  if (isLocalDateTime(value)) {
    const t = value as LocalDateTime;
    return { $type: 'LocalDateTime', _value: `${fmtDate(t.year, t.month, t.day)}T${fmtTime(t.hour, t.minute, t.second, t.nanosecond)}` };
  }
  if (isDateTime(value)) {
    const t = value as DateTime;
    const base = `${fmtDate(t.year, t.month, t.day)}T${fmtTime(t.hour, t.minute, t.second, t.nanosecond)}`;
    if (t.timeZoneId && !isFixedOffsetZone(t.timeZoneId)) {
      const offset =
        t.timeZoneOffsetSeconds !== undefined && t.timeZoneOffsetSeconds !== null ? num(t.timeZoneOffsetSeconds) : zoneOffsetSeconds(t.timeZoneId, t);
      return { $type: 'ZonedDateTime', _value: `${base}${fmtOffset(offset)}[${t.timeZoneId}]` };
    }
    // an offset, or a zone whose rules are one fixed offset (UTC, Etc/GMT+1): Neo4j writes both as offsets
    const offset =
      t.timeZoneOffsetSeconds !== undefined && t.timeZoneOffsetSeconds !== null
        ? num(t.timeZoneOffsetSeconds)
        : t.timeZoneId
          ? zoneOffsetSeconds(t.timeZoneId, t)
          : 0;
    return { $type: 'OffsetDateTime', _value: base + fmtOffset(offset) };
  }
  if (isDuration(value)) {
    const d = value as Duration;
    return { $type: 'Duration', _value: formatDuration(durationOf(big(d.months), big(d.days), big(d.seconds), big(d.nanoseconds))) };
  }
  if (typeof value === 'object') return { $type: 'Map', _value: mapOf(value as Record<string, unknown>) };
  throw new GatewayError(Codes.Internal, `Cannot encode a value of type ${typeof value}.`);
}

function mapOf(obj: Record<string, unknown>): Record<string, TypedValue> {
  const out: Record<string, TypedValue> = {};
  for (const k of Object.keys(obj)) out[k] = fromDriver(obj[k]);
  return out;
}

function bad(type: string, raw: unknown): GatewayError {
  return new GatewayError(Codes.RequestInvalidFormat, `Invalid ${type} value: ${JSON.stringify(raw)}.`);
}

const DATE_RE = /^([+-]?\d{4,9})-(\d{2})-(\d{2})$/;
const TIME_RE = /^(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?$/;
const OFFSET_RE = /^(Z|[+-]\d{2}(?::?\d{2}(?::?\d{2})?)?)$/;

function parseDate(raw: string, type: string): [number, number, number] {
  const m = DATE_RE.exec(raw);
  if (!m) throw bad(type, raw);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

function parseTime(raw: string, type: string): [number, number, number, number] {
  const m = TIME_RE.exec(raw);
  if (!m) throw bad(type, raw);
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0), Number((m[4] ?? '').padEnd(9, '0') || 0)];
}

function parseOffset(raw: string, type: string): number {
  if (!OFFSET_RE.test(raw)) throw bad(type, raw);
  if (raw === 'Z') return 0;
  const sign = raw.startsWith('-') ? -1 : 1;
  const digits = raw.slice(1).replace(/:/g, '');
  const h = Number(digits.slice(0, 2));
  const m = Number(digits.slice(2, 4) || 0);
  const s = Number(digits.slice(4, 6) || 0);
  return sign * (h * 3600 + m * 60 + s);
}

/** splits "12:00:00.5+01:00" into time and offset parts */
function splitOffset(raw: string): [string, string] {
  const i = Math.max(raw.lastIndexOf('+'), raw.lastIndexOf('-'), raw.indexOf('Z'));
  if (i <= 0) return [raw, ''];
  return [raw.slice(0, i), raw.slice(i)];
}

const DURATION_RE = /^(-)?P(?:(-?\d+)Y)?(?:(-?\d+)M)?(?:(-?\d+)W)?(?:(-?\d+)D)?(?:T(?:(-?\d+)H)?(?:(-?\d+)M)?(?:(-?\d+)(?:[.,](\d{1,9}))?S)?)?$/;

function parseDuration(raw: string): Duration<number> {
  const m = DURATION_RE.exec(raw);
  if (!m || raw === 'P' || raw.endsWith('T')) throw bad('Duration', raw);
  const sign = m[1] ? -1 : 1;
  const n = (i: number) => Number(m[i] ?? 0);
  const months = sign * (n(2) * 12 + n(3));
  const days = sign * (n(4) * 7 + n(5));
  const secs = n(6) * 3600 + n(7) * 60 + n(8);
  const secSign = (m[8] ?? '').startsWith('-') ? -1 : 1;
  const nanos = secSign * Number((m[9] ?? '').padEnd(9, '0') || 0);
  return new Duration(months, days, sign * secs, sign * nanos);
}

const POINT_RE = /^SRID=(\d+);\s*POINT\s*(Z\s*)?\(\s*([^\s)]+)\s+([^\s)]+)(?:\s+([^\s)]+))?\s*\)$/i;

/** typed JSON (from a request) -> neo4j-driver parameter value */
export function toDriver(value: TypedValue): unknown {
  if (value === null || typeof value !== 'object' || typeof (value as { $type?: unknown }).$type !== 'string') {
    throw new GatewayError(Codes.RequestInvalidFormat, `Invalid typed value: expected {"$type": ..., "_value": ...}, got ${JSON.stringify(value)}.`);
  }
  const raw = (value as { _value: unknown })._value;
  const str = (): string => {
    if (typeof raw !== 'string') throw bad(value.$type, raw);
    return raw;
  };
  switch (value.$type) {
    case 'Null':
      return null;
    case 'Boolean':
      if (typeof raw !== 'boolean') throw bad('Boolean', raw);
      return raw;
    case 'String':
      return boltString(str());
    case 'Integer': {
      const s = typeof raw === 'number' && Number.isInteger(raw) ? String(raw) : str();
      if (!/^-?\d+$/.test(s)) throw bad('Integer', raw);
      const big = BigInt(s);
      if (big > 9223372036854775807n || big < -9223372036854775808n) throw bad('Integer', raw);
      return neo4j.int(s);
    }
    case 'Float': {
      const f = typeof raw === 'number' ? raw : Number(str());
      if (typeof raw === 'string' && !/^(-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|NaN|-?Infinity)$/.test(raw)) throw bad('Float', raw);
      return f;
    }
    case 'Base64': {
      // neo4j-driver sends an Int8Array as Bolt bytes (a Uint8Array would travel as a list of floats)
      let bytes: Uint8Array;
      try {
        bytes = base64ToBytes(str());
      } catch {
        throw bad('Base64', raw);
      }
      return new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    case 'List':
      if (!Array.isArray(raw)) throw bad('List', raw);
      return raw.map((v) => toDriver(v as TypedValue));
    case 'Map': {
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw bad('Map', raw);
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(raw)) out[boltString(k)] = toDriver(v as TypedValue);
      return out;
    }
    case 'Date': {
      const [y, mo, d] = parseDate(str(), 'Date');
      return new NeoDate(y, mo, d);
    }
    case 'LocalTime': {
      const [h, mi, s, ns] = parseTime(str(), 'LocalTime');
      return new LocalTime(h, mi, s, ns);
    }
    case 'Time': {
      const [t, off] = splitOffset(str());
      const [h, mi, s, ns] = parseTime(t, 'Time');
      return new Time(h, mi, s, ns, parseOffset(off || 'Z', 'Time'));
    }
    case 'LocalDateTime': {
      const [d, t] = str().split('T');
      if (d === undefined || t === undefined) throw bad('LocalDateTime', raw);
      const [y, mo, da] = parseDate(d, 'LocalDateTime');
      const [h, mi, s, ns] = parseTime(t, 'LocalDateTime');
      return new LocalDateTime(y, mo, da, h, mi, s, ns);
    }
    case 'OffsetDateTime':
    case 'ZonedDateTime': {
      const full = str();
      const zoneStart = full.indexOf('[');
      const zone = zoneStart >= 0 && full.endsWith(']') ? full.slice(zoneStart + 1, -1) : undefined;
      const body = zoneStart >= 0 ? full.slice(0, zoneStart) : full;
      const [d, tz] = body.split('T');
      if (d === undefined || tz === undefined) throw bad(value.$type, raw);
      const [y, mo, da] = parseDate(d, value.$type);
      const [t, off] = splitOffset(tz);
      const [h, mi, s, ns] = parseTime(t, value.$type);
      if (zone !== undefined && off === '') return new DateTime(y, mo, da, h, mi, s, ns, undefined, zone);
      return new DateTime(y, mo, da, h, mi, s, ns, parseOffset(off || 'Z', value.$type), zone ?? null);
    }
    case 'Duration':
      return parseDuration(str());
    case 'Point': {
      const m = POINT_RE.exec(str());
      if (!m) throw bad('Point', raw);
      const coords = [m[3], m[4], m[5]].filter((c): c is string => c !== undefined).map(Number);
      if (coords.some((c) => Number.isNaN(c)) || (m[2] !== undefined) !== (coords.length === 3)) throw bad('Point', raw);
      return new Point(neo4j.int(m[1]!), coords[0]!, coords[1]!, coords[2]);
    }
    case 'Node':
    case 'Relationship':
    case 'Path':
      throw new GatewayError(Codes.RequestInvalidFormat, `${value.$type} values cannot be sent as parameters.`);
    default:
      throw new GatewayError(Codes.RequestInvalidFormat, `Unknown $type ${JSON.stringify((value as { $type: unknown }).$type)}.`);
  }
}
