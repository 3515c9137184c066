/**
 * JSON text exactly as Neo4j's Query API (Jackson, through the Java driver) writes it, so the
 * gateway's bodies equal Neo4j's byte for byte:
 * - strings: `"` and `\` escaped, control characters as \b \t \n \f \r or \u00XX (upper-case
 *   hex), characters above U+FFFF as their escaped UTF-16 pair (\uD83D\uDE00), everything else
 *   (é, U+2028, DEL, `/`) as is;
 * - plain JSON (`application/json`) values: Integers as their digits at any size, Floats as Java
 *   prints them (`Float.toString` when the double is exactly a float, as the Java driver's
 *   `asFloat()` allows, else `Double.toString`; NaN and ±Infinity as strings), temporals,
 *   durations, points and byte arrays as their text, DateTime without its zone name, nodes,
 *   relationships and paths as objects and arrays;
 * - map and property keys in the order of the Java HashMap the Java driver reads them into.
 *
 * Must never: write any text it did not escape or format itself (no markers, no substitution in
 * finished text that data could imitate), or write an Integer whose text is not plain digits.
 */
import { Codes, GatewayError } from '../errors/index.js';
import type { TypedValue } from '../values/typed.js';
import { javaDoubleToString, javaFloatToString } from '../values/java-double.js';

// eslint-disable-next-line no-control-regex -- control characters are exactly what must be escaped
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;
const SHORT_ESCAPES: Record<number, string> = { 8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r', 34: '\\"', 92: '\\\\' };

function hex4(c: number): string {
  return `\\u${c.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** a JSON string literal, escaped as Jackson escapes it */
export function jsonString(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return `"${s}"`;
  let out = '"';
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c !== 34 && c !== 92 && (c < 0xd800 || c > 0xdfff)) continue;
    out += s.slice(from, i) + (SHORT_ESCAPES[c] ?? hex4(c));
    from = i + 1;
  }
  return `${out}${s.slice(from)}"`;
}

/** any JSON-able value (objects, arrays, strings, finite numbers, booleans, null), Jackson-escaped */
export function jsonText(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  switch (typeof v) {
    case 'string':
      return jsonString(v);
    case 'number':
      return Number.isFinite(v) ? String(v) : 'null';
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      return v.toString();
    case 'object': {
      if (Array.isArray(v)) {
        let out = '[';
        for (let i = 0; i < v.length; i++) out += (i === 0 ? '' : ',') + jsonText(v[i]);
        return `${out}]`;
      }
      let out = '{';
      let first = true;
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        if (x === undefined) continue;
        out += `${first ? '' : ','}${jsonString(k)}:${jsonText(x)}`;
        first = false;
      }
      return `${out}}`;
    }
    default:
      return 'null';
  }
}

/** java.lang.String.hashCode, spread as java.util.HashMap.hash does */
function javaSpreadHash(key: string): number {
  let h = 0;
  for (let i = 0; i < key.length; i++) h = (Math.imul(h, 31) + key.charCodeAt(i)) | 0;
  return h ^ (h >>> 16);
}

/**
 * The order a `new java.util.HashMap<>(keys.length)` iterates `keys` in, put in the given order
 * (resizes included): the Java driver inside Neo4j's Query API reads every map and property map
 * into such a HashMap, and the Query API writes the keys in its order. The put order is the
 * order Neo4j sent the keys in, which neo4j-driver keeps in the objects it builds, except that
 * JavaScript lists integer-like keys ("1", "10") first: a key such as "10" that shares a bucket
 * with another key may then come out on the other side of it (the same map, in another order).
 */
export function javaHashMapOrder(keys: string[]): string[] {
  const size = keys.length;
  if (size <= 1) return keys;
  let capacity = 1;
  while (capacity < size) capacity *= 2; // tableSizeFor(size)
  let threshold = Math.trunc(capacity * 0.75);
  let buckets: { key: string; hash: number }[][] = Array.from({ length: capacity }, () => []);
  let count = 0;
  for (const key of keys) {
    const hash = javaSpreadHash(key);
    buckets[hash & (capacity - 1)]!.push({ key, hash });
    if (++count > threshold) {
      // HashMap.resize: double, and split each bucket keeping its order
      const oldCapacity = capacity;
      capacity *= 2;
      threshold = oldCapacity >= 16 ? threshold * 2 : Math.trunc(capacity * 0.75);
      const next: { key: string; hash: number }[][] = Array.from({ length: capacity }, () => []);
      buckets.forEach((bucket, j) => {
        for (const e of bucket) next[(e.hash & oldCapacity) === 0 ? j : j + oldCapacity]!.push(e);
      });
      buckets = next;
    }
  }
  const out: string[] = [];
  for (const bucket of buckets) for (const e of bucket) out.push(e.key);
  return out;
}

const DIGITS = /^-?\d+$/;

function integerText(digits: string): string {
  if (!DIGITS.test(digits))
    throw new GatewayError(Codes.Internal, 'The gateway failed to process the request.', { cause: new Error(`malformed Integer ${JSON.stringify(digits)}`) });
  return digits;
}

/** a Float in plain JSON, as the Java driver's value and Jackson write it */
function plainFloat(text: string): string {
  const d = Number(text);
  if (Number.isNaN(d)) return '"NaN"';
  if (d === Infinity) return '"Infinity"';
  if (d === -Infinity) return '"-Infinity"';
  return Math.fround(d) === d ? javaFloatToString(d) : javaDoubleToString(d);
}

function plainProperties(props: Record<string, TypedValue>): string {
  let out = '{';
  let first = true;
  for (const k of javaHashMapOrder(Object.keys(props))) {
    out += `${first ? '' : ','}${jsonString(k)}:${plainJson(props[k]!)}`;
    first = false;
  }
  return `${out}}`;
}

/** a typed value as plain JSON text (`application/json`), as Neo4j's Query API renders it */
export function plainJson(v: TypedValue): string {
  switch (v.$type) {
    case 'Null':
      return 'null';
    case 'Boolean':
      return v._value ? 'true' : 'false';
    case 'Integer':
      return integerText(v._value);
    case 'Float':
      return plainFloat(v._value);
    case 'String':
      return jsonString(v._value);
    case 'List':
    case 'Path': {
      let out = '[';
      for (let i = 0; i < v._value.length; i++) out += (i === 0 ? '' : ',') + plainJson(v._value[i]!);
      return `${out}]`;
    }
    case 'Map':
      return plainProperties(v._value);
    case 'Node':
      return `{"elementId":${jsonString(v._value._element_id)},"labels":${jsonText(v._value._labels)},"properties":${plainProperties(v._value._properties)}}`;
    case 'Relationship':
      return (
        `{"elementId":${jsonString(v._value._element_id)},"startNodeElementId":${jsonString(v._value._start_node_element_id)},` +
        `"endNodeElementId":${jsonString(v._value._end_node_element_id)},"type":${jsonString(v._value._type)},"properties":${plainProperties(v._value._properties)}}`
      );
    case 'ZonedDateTime': {
      // plain JSON carries the offset only (ISO_OFFSET_DATE_TIME)
      const i = v._value.indexOf('[');
      return jsonString(i >= 0 ? v._value.slice(0, i) : v._value);
    }
    default:
      // Date, Time, LocalTime, LocalDateTime, OffsetDateTime, Duration, Point, Base64: their text
      return jsonString(v._value);
  }
}

/** a typed value as typed JSON text (`application/vnd.neo4j.query`) */
export function typedJson(v: TypedValue): string {
  switch (v.$type) {
    case 'Null':
      return '{"$type":"Null","_value":null}';
    case 'Boolean':
      return v._value ? '{"$type":"Boolean","_value":true}' : '{"$type":"Boolean","_value":false}';
    case 'List':
    case 'Path': {
      let out = `{"$type":"${v.$type}","_value":[`;
      for (let i = 0; i < v._value.length; i++) out += (i === 0 ? '' : ',') + typedJson(v._value[i]!);
      return `${out}]}`;
    }
    case 'Map':
      return `{"$type":"Map","_value":${typedProperties(v._value)}}`;
    case 'Node':
      return `{"$type":"Node","_value":{"_element_id":${jsonString(v._value._element_id)},"_labels":${jsonText(v._value._labels)},"_properties":${typedProperties(v._value._properties)}}}`;
    case 'Relationship':
      return (
        `{"$type":"Relationship","_value":{"_element_id":${jsonString(v._value._element_id)},"_start_node_element_id":${jsonString(v._value._start_node_element_id)},` +
        `"_end_node_element_id":${jsonString(v._value._end_node_element_id)},"_type":${jsonString(v._value._type)},"_properties":${typedProperties(v._value._properties)}}}`
      );
    default:
      return `{"$type":${jsonString(v.$type)},"_value":${jsonString(String(v._value))}}`;
  }
}

function typedProperties(props: Record<string, TypedValue>): string {
  let out = '{';
  let first = true;
  for (const k of javaHashMapOrder(Object.keys(props))) {
    out += `${first ? '' : ','}${jsonString(k)}:${typedJson(props[k]!)}`;
    first = false;
  }
  return `${out}}`;
}
