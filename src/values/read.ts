/**
 * Reads a typed-JSON value (`TypedValue`, the Query API's `application/vnd.neo4j.query` form) into
 * the parts Neo4j compares it by: numbers, temporals, durations, points, byte arrays as sequences
 * of signed bytes, element ids as internal ids. Parsed parts are cached per value object, so a
 * sort or merge parses each value once.
 *
 * Must never: mutate a value, or keep a value alive (the cache is weak).
 */
import { base64ToBytes } from './format.js';
import type { TypedValue } from './typed.js';
import { parseDuration, type Duration } from './duration.js';
import type { NumberParts } from './numbers.js';
import { parsePoint, type PointParts } from './spatial.js';
import {
  parseDate,
  parseDateTime,
  parseLocalDateTime,
  parseLocalTime,
  parseTime,
  type DateTimeParts,
  type LocalDateParts,
  type TimeParts,
} from './temporal.js';

const cache = new WeakMap<object, unknown>();

/** a value whose payload is text (temporals, durations, points, numbers, byte arrays) */
type TextValue = { $type: string; _value: string };

function cached<T>(v: object, parse: () => T): T {
  const hit = cache.get(v);
  if (hit !== undefined) return hit as T;
  const parsed = parse();
  cache.set(v, parsed);
  return parsed;
}

export function numberOf(v: TextValue): NumberParts {
  return cached(v, (): NumberParts => (v.$type === 'Integer' ? { kind: 'int', value: BigInt(v._value) } : { kind: 'float', value: Number(v._value) }));
}

export function durationValueOf(v: TextValue): Duration {
  return cached(v, () => parseDuration(v._value));
}

export function pointOf(v: TextValue): PointParts {
  return cached(v, () => parsePoint(v._value));
}

export function dateOf(v: TextValue): LocalDateParts {
  return cached(v, () => parseDate(v._value));
}

export function localTimeOf(v: TextValue): TimeParts {
  return cached(v, () => parseLocalTime(v._value));
}

export function timeOf(v: TextValue): TimeParts & { offsetSeconds: number } {
  return cached(v, () => parseTime(v._value));
}

export function localDateTimeOf(v: TextValue): LocalDateParts & TimeParts {
  return cached(v, () => parseLocalDateTime(v._value));
}

export function dateTimeOf(v: TextValue): DateTimeParts {
  return cached(v, () => parseDateTime(v._value, v.$type));
}

/** a byte array's bytes as Neo4j sees them in a sequence: Integers from -128 to 127 */
export function bytesAsList(v: TextValue): TypedValue[] {
  return cached(v, () => Array.from(base64ToBytes(v._value), (b): TypedValue => ({ $type: 'Integer', _value: String(b > 127 ? b - 256 : b) })));
}

/** the items of a sequence value (List, or Base64 as its bytes), undefined for anything else */
export function sequenceOf(v: TypedValue): TypedValue[] | undefined {
  if (v.$type === 'List') return v._value;
  if (v.$type === 'Base64') return bytesAsList(v);
  return undefined;
}

/**
 * The internal id inside a Neo4j 5 element id ("4:<database uuid>:<id>"), which is what Neo4j
 * orders nodes and relationships by; undefined when the element id has another shape.
 */
export function internalIdOf(elementId: string): bigint | undefined {
  const i = elementId.lastIndexOf(':');
  const tail = elementId.slice(i + 1);
  return /^\d{1,19}$/.test(tail) ? BigInt(tail) : undefined;
}
