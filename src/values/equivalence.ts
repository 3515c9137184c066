/**
 * Neo4j's equivalence for DISTINCT, grouping keys, UNION and count(DISTINCT ...): two values get the
 * same key exactly when Neo4j 5.26 puts them in one bucket (`AnyValue.equals`, which its hash
 * tables use), read from their typed-JSON form:
 *
 * - 1, 1.0 and -0.0/0.0/0 are one value each (numbers.ts: exact, and a Float 2^63 equals the
 *   Integer 9223372036854775807 as in Java); NaN equals nothing, not even another NaN, so a value
 *   holding a NaN anywhere (a list, a map) gets a key of its own on every call;
 * - null is one bucket; [null] equals [null];
 * - a byte array equals the list of its signed bytes (Base64 "AQI=" and [1, 2] are one value);
 * - lists element by element; maps by keys and values (key order irrelevant). Neo4j's map
 *   equality reads a missing key as null, so {k: null} "equals" any one-entry map without k,
 *   and whether two such maps share a bucket depends on where their hashes fall in Neo4j's hash
 *   table (null hashes by identity, differently on every start): not a rule anyone can rely on.
 *   Here maps with different keys are always different values;
 * - DateTime (OffsetDateTime, ZonedDateTime): same local date-time, same offset, and both
 *   offsets or both the same named zone; an equal instant is not enough (12:00Z and
 *   13:00+01:00 are two values), nor is an offset equal to a zone's (…Z and …Z[Europe/London]
 *   are two values). Neo4j's `equals` ignores the offset of two values in one named zone, but
 *   its hash tables hash the instant, so the two 01:30 of a DST fall-back night in
 *   America/New_York are two values for DISTINCT and grouping. Neo4j's Query API
 *   writes zones whose rules are a fixed offset (UTC, Etc/GMT+1, ...) as offsets, so two
 *   datetimes Neo4j kept apart (zone "UTC" vs offset "Z") look identical in typed JSON and are
 *   one value here;
 * - Time: same local time and same offset; Date, LocalTime, LocalDateTime: same fields;
 * - Duration: same months, days, seconds and nanoseconds (P1D is not PT24H);
 * - Point: same CRS and bit-identical coordinates (-0.0 is not 0.0);
 * - nodes and relationships: same element id; paths: same element ids in order.
 *
 * Must never: treat equal instants as equal values (that is comparison, not equivalence), or give
 * two NaN-holding values one key.
 */
import type { TypedValue } from './typed.js';
import { durationKey } from './duration.js';
import { numberClassKey } from './numbers.js';
import { dateOf, dateTimeOf, durationValueOf, localDateTimeOf, localTimeOf, numberOf, pointOf, sequenceOf, timeOf } from './read.js';
import { pointKey } from './spatial.js';

let uniqueCounter = 0;

/** marks a NaN met while building a key: the whole value then equals nothing */
class HoldsNaN extends Error {}

function keyOf(v: TypedValue): string {
  switch (v.$type) {
    case 'Null':
      return 'N';
    case 'Boolean':
      return v._value ? 'T' : 'F';
    case 'Integer':
    case 'Float': {
      const k = numberClassKey(numberOf(v));
      if (k === undefined) throw new HoldsNaN();
      return `#${k};`;
    }
    case 'String':
      return `s${JSON.stringify(v._value)}`;
    case 'List':
    case 'Base64': {
      let out = '[';
      for (const item of sequenceOf(v)!) out += keyOf(item);
      return `${out}]`;
    }
    case 'Map': {
      let out = '{';
      for (const k of Object.keys(v._value).sort()) out += JSON.stringify(k) + keyOf(v._value[k]!);
      return `${out}}`;
    }
    case 'Date':
      return `d${dateOf(v).epochDay};`;
    case 'LocalTime':
      return `l${localTimeOf(v).nanoOfDay};`;
    case 'Time': {
      const t = timeOf(v);
      return `t${t.nanoOfDay}@${t.offsetSeconds};`;
    }
    case 'LocalDateTime': {
      const t = localDateTimeOf(v);
      return `L${t.epochDay},${t.nanoOfDay};`;
    }
    case 'OffsetDateTime':
    case 'ZonedDateTime': {
      const t = dateTimeOf(v);
      // DateTimeValue.equals (same local date-time, same offset or same named zone) within
      // Neo4j's hash tables, which hash the instant: the offset always counts
      return `z${t.epochDay},${t.nanoOfDay}@${t.offsetSeconds}${t.zone === undefined ? '' : JSON.stringify(t.zone)};`;
    }
    case 'Duration':
      return `P${durationKey(durationValueOf(v))};`;
    case 'Point':
      return `p${pointKey(pointOf(v))};`;
    case 'Node':
      return `n${JSON.stringify(v._value._element_id)}`;
    case 'Relationship':
      return `r${JSON.stringify(v._value._element_id)}`;
    case 'Path': {
      let out = 'q[';
      for (const part of v._value) out += part.$type === 'Node' || part.$type === 'Relationship' ? JSON.stringify(part._value._element_id) : keyOf(part);
      return `${out}]`;
    }
    default:
      return `?${JSON.stringify(v)}`;
  }
}

/**
 * A string equal for two values exactly when Neo4j treats them as the same value in DISTINCT,
 * grouping and UNION. A value holding a NaN gets a fresh key on every call.
 */
export function equivalenceKey(v: TypedValue): string {
  try {
    return keyOf(v);
  } catch (err) {
    if (err instanceof HoldsNaN) return `!NaN${++uniqueCounter}`;
    throw err;
  }
}

/** The key of a row (several columns) for DISTINCT and UNION: equal when every column is. */
export function rowKey(row: TypedValue[]): string {
  if (row.length === 1) return equivalenceKey(row[0]!);
  let out = '';
  for (const v of row) out += `${equivalenceKey(v)}|`;
  return out;
}
