/**
 * The total order Neo4j 5.26 sorts by in `ORDER BY ... ASC` (and that min() and max() pick with),
 * on typed-JSON values: a port of `AnyValueComparator` (Cypher manual "Ordering and comparison of
 * values", openCypher CIP2016-06-14). Descending order is its reverse.
 *
 * Types, ascending: Map < Node < Relationship < List (and byte arrays, which are sequences of
 * signed bytes: Base64 "AQI=" sorts as, and ties with, [1, 2]) < Path < Point < DateTime
 * (OffsetDateTime and ZonedDateTime together) < LocalDateTime < Date < Time < LocalTime < Duration
 * < String < Boolean < Integer and Float < null. Within a type:
 * - numbers: see numbers.ts (Java's Double.compare: -0.0 < 0.0 and NaN above +Infinity;
 *   Integer vs Float exact below 2^53, through the printed decimal beyond, as Neo4j does);
 * - strings: by Unicode code point, which is how Neo4j orders strings read from the store and
 *   string literals (UTF-8 bytes). Neo4j orders two strings that both arrived as query parameters
 *   by UTF-16 code unit instead ("\u{1F600}" < "\uFF5E"); the two orders differ only between a
 *   character above U+FFFF and one in U+E000-U+FFFF;
 * - booleans: false < true;
 * - lists: element by element, then the shorter first; maps: by size, then by sorted keys
 *   (UTF-16 order, as Java's String.compareTo), then by values in key order;
 * - temporals, durations, points: see temporal.ts, duration.ts, spatial.ts;
 * - nodes and relationships: by the internal id at the end of the element id (what Neo4j orders
 *   by), then by the whole element id (nodes of different databases: an order of our own);
 *   paths: by start node id, then relationship ids in turn, then length.
 *
 * Must never: throw on a well-formed value of any type, or depend on the order values arrive in.
 */
import type { TypedValue } from './typed.js';
import { compareDurations } from './duration.js';
import { compareNumbers } from './numbers.js';
import { dateOf, dateTimeOf, durationValueOf, internalIdOf, localDateTimeOf, localTimeOf, numberOf, pointOf, sequenceOf, timeOf } from './read.js';
import { comparePoints } from './spatial.js';
import { compareDateTimes, compareTimes } from './temporal.js';

const RANK: Record<TypedValue['$type'], number> = {
  Map: 0,
  Node: 1,
  Relationship: 2,
  List: 3,
  Base64: 3,
  Path: 4,
  Point: 5,
  OffsetDateTime: 6,
  ZonedDateTime: 6,
  LocalDateTime: 7,
  Date: 8,
  Time: 9,
  LocalTime: 10,
  Duration: 11,
  String: 12,
  Boolean: 13,
  Integer: 14,
  Float: 14,
  Null: 15,
};

function sign(x: number): number {
  return x < 0 ? -1 : x > 0 ? 1 : 0;
}

/** Unicode code point order of two JavaScript (UTF-16) strings */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // surrogates (D800-DFFF) encode code points above FFFF: move them above E000-FFFF
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x < y ? -1 : 1;
  }
  return sign(a.length - b.length);
}

function compareStringsUtf16(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareIds(a: string, b: string): number {
  const ia = internalIdOf(a);
  const ib = internalIdOf(b);
  if (ia !== undefined && ib !== undefined && ia !== ib) return ia < ib ? -1 : 1;
  return compareStringsUtf16(a, b);
}

function elementIdOf(v: TypedValue): string {
  return v.$type === 'Node' || v.$type === 'Relationship' ? v._value._element_id : '';
}

function compareSequences(a: TypedValue[], b: TypedValue[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareOrderBy(a[i]!, b[i]!);
    if (c !== 0) return c;
  }
  return sign(a.length - b.length);
}

function compareMaps(a: Record<string, TypedValue>, b: Record<string, TypedValue>): number {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  if (ka.length !== kb.length) return ka.length < kb.length ? -1 : 1;
  for (let i = 0; i < ka.length; i++) {
    const c = compareStringsUtf16(ka[i]!, kb[i]!);
    if (c !== 0) return c;
  }
  for (const k of ka) {
    const c = compareOrderBy(a[k]!, b[k]!);
    if (c !== 0) return c;
  }
  return 0;
}

function comparePaths(a: TypedValue[], b: TypedValue[]): number {
  const c = compareIds(elementIdOf(a[0]!), elementIdOf(b[0]!));
  if (c !== 0) return c;
  const ra = (a.length - 1) / 2;
  const rb = (b.length - 1) / 2;
  for (let i = 0; i < Math.min(ra, rb); i++) {
    const r = compareIds(elementIdOf(a[2 * i + 1]!), elementIdOf(b[2 * i + 1]!));
    if (r !== 0) return r;
  }
  return sign(ra - rb);
}

/**
 * Neo4j's ORDER BY comparison, ascending: negative when `a` sorts before `b`, 0 when they tie
 * (break ties by arrival order to reproduce Neo4j's stable sort).
 */
export function compareOrderBy(a: TypedValue, b: TypedValue): number {
  const ra = RANK[a.$type];
  const rb = RANK[b.$type];
  if (ra !== rb) return ra < rb ? -1 : 1;
  switch (a.$type) {
    case 'Null':
      return 0;
    case 'Integer':
    case 'Float':
      return compareNumbers(numberOf(a), numberOf(b as typeof a));
    case 'String':
      return compareCodePoints(a._value, (b as typeof a)._value);
    case 'Boolean':
      return a._value === (b as typeof a)._value ? 0 : a._value ? 1 : -1;
    case 'List':
    case 'Base64':
      return compareSequences(sequenceOf(a)!, sequenceOf(b)!);
    case 'Map':
      return compareMaps(a._value, (b as typeof a)._value);
    case 'Node':
    case 'Relationship':
      return compareIds(a._value._element_id, elementIdOf(b));
    case 'Path':
      return comparePaths(a._value, (b as typeof a)._value);
    case 'Point':
      return comparePoints(pointOf(a), pointOf(b as typeof a));
    case 'OffsetDateTime':
    case 'ZonedDateTime':
      return compareDateTimes(dateTimeOf(a), dateTimeOf(b as typeof a));
    case 'LocalDateTime': {
      const x = localDateTimeOf(a);
      const y = localDateTimeOf(b as typeof a);
      return sign(x.epochDay - y.epochDay) || sign(x.nanoOfDay - y.nanoOfDay);
    }
    case 'Date':
      return sign(dateOf(a).epochDay - dateOf(b as typeof a).epochDay);
    case 'Time':
      return compareTimes(timeOf(a), timeOf(b as typeof a));
    case 'LocalTime':
      return sign(localTimeOf(a).nanoOfDay - localTimeOf(b as typeof a).nanoOfDay);
    case 'Duration':
      return compareDurations(durationValueOf(a), durationValueOf(b as typeof a));
    default:
      return 0;
  }
}
