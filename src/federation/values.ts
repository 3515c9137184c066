/**
 * Cypher semantics on typed values (pure): ordering (ORDER BY), equivalence (DISTINCT, UNION,
 * grouping keys) and the aggregate combiners the merges need.
 */
import { GatewayError } from '../errors/index.js';
import type { TypedValue } from '../transport/types.js';
import { formatFloat } from '../transport/format.js';

export const CannotMerge = 'Neo.ClientError.Gateway.CannotMerge';

/** Cypher's global sort order of types, ascending (null sorts last ascending). */
const TYPE_RANK: Record<string, number> = {
  Map: 0, Node: 1, Relationship: 2, List: 3, Path: 4,
  ZonedDateTime: 5, OffsetDateTime: 5, LocalDateTime: 6, Date: 7, Time: 8, LocalTime: 9, Duration: 10,
  String: 11, Boolean: 12, Integer: 13, Float: 13, Point: 14, Base64: 15, Null: 16,
};

function num(v: TypedValue): number | bigint {
  if (v.$type === 'Integer') return BigInt(v._value);
  return Number(v._value);
}

function cmpNumbers(a: TypedValue, b: TypedValue): number {
  const x = num(a);
  const y = num(b);
  if (typeof x === 'bigint' && typeof y === 'bigint') return x < y ? -1 : x > y ? 1 : 0;
  const fx = Number(x);
  const fy = Number(y);
  // NaN sorts above every number in Cypher
  if (Number.isNaN(fx) || Number.isNaN(fy)) return Number.isNaN(fx) ? (Number.isNaN(fy) ? 0 : 1) : -1;
  return fx < fy ? -1 : fx > fy ? 1 : 0;
}

/** total order of Cypher values, as ORDER BY sorts them ascending */
export function compareValues(a: TypedValue, b: TypedValue): number {
  const ra = TYPE_RANK[a.$type] ?? 99;
  const rb = TYPE_RANK[b.$type] ?? 99;
  if (ra !== rb) return ra - rb;
  switch (a.$type) {
    case 'Null':
      return 0;
    case 'Integer':
    case 'Float':
      return cmpNumbers(a, b);
    case 'Boolean':
      return Number(a._value) - Number((b as typeof a)._value);
    case 'String':
      return a._value < (b as typeof a)._value ? -1 : a._value > (b as typeof a)._value ? 1 : 0;
    case 'List': {
      const bl = (b as typeof a)._value;
      for (let i = 0; i < Math.min(a._value.length, bl.length); i++) {
        const c = compareValues(a._value[i]!, bl[i]!);
        if (c !== 0) return c;
      }
      return a._value.length - bl.length;
    }
    default: {
      // temporal values of one type in ISO text compare like their instants for equal offsets;
      // other structured values: a stable order by their canonical text
      const sa = canonicalKey(a);
      const sb = canonicalKey(b);
      return sa < sb ? -1 : sa > sb ? 1 : 0;
    }
  }
}

/**
 * A string equal for equivalent values: DISTINCT, UNION and grouping keys use it. Integer 1 and
 * Float 1.0 are equivalent, as in Cypher.
 */
export function canonicalKey(v: TypedValue): string {
  switch (v.$type) {
    case 'Integer':
      return `n:${v._value}`;
    case 'Float': {
      const f = Number(v._value);
      return Number.isInteger(f) && Math.abs(f) <= Number.MAX_SAFE_INTEGER ? `n:${f}` : `f:${v._value}`;
    }
    case 'List':
    case 'Path':
      return `${v.$type}[${v._value.map(canonicalKey).join(',')}]`;
    case 'Map':
      return `{${Object.keys(v._value).sort().map((k) => `${JSON.stringify(k)}:${canonicalKey(v._value[k]!)}`).join(',')}}`;
    case 'Node':
    case 'Relationship':
      return `${v.$type}:${v._value._element_id}`;
    default:
      return `${v.$type}:${JSON.stringify(v._value)}`;
  }
}

export function rowKey(row: TypedValue[]): string {
  return row.map(canonicalKey).join('\u0001');
}

const NULL: TypedValue = { $type: 'Null', _value: null };

function isNumber(v: TypedValue): boolean {
  return v.$type === 'Integer' || v.$type === 'Float';
}

/** sum of per-shard sums (Integer stays exact) */
export function addValues(a: TypedValue, b: TypedValue): TypedValue {
  if (a.$type === 'Null') return b;
  if (b.$type === 'Null') return a;
  if (a.$type === 'Integer' && b.$type === 'Integer') {
    const s = BigInt(a._value) + BigInt(b._value);
    if (s > 9223372036854775807n || s < -9223372036854775808n) throw new GatewayError('Neo.ClientError.Statement.ArithmeticError', 'long overflow', { status: 400 });
    return { $type: 'Integer', _value: s.toString() };
  }
  if (isNumber(a) && isNumber(b)) {
    const f = Number(a._value) + Number(b._value);
    return { $type: 'Float', _value: formatFloat(f) };
  }
  throw new GatewayError(CannotMerge, `sum() over ${a.$type} values cannot be combined across shards by this gateway.`, { status: 400 });
}

export function minValue(a: TypedValue, b: TypedValue): TypedValue {
  if (a.$type === 'Null') return b;
  if (b.$type === 'Null') return a;
  return compareValues(b, a) < 0 ? b : a;
}

export function maxValue(a: TypedValue, b: TypedValue): TypedValue {
  if (a.$type === 'Null') return b;
  if (b.$type === 'Null') return a;
  return compareValues(b, a) > 0 ? b : a;
}

/** avg from per-shard (sum, count) pairs */
export function averageOf(sum: TypedValue, count: TypedValue): TypedValue {
  const n = count.$type === 'Integer' ? Number(count._value) : 0;
  if (n === 0 || sum.$type === 'Null') return NULL;
  if (!isNumber(sum)) throw new GatewayError(CannotMerge, `avg() over ${sum.$type} values cannot be combined across shards by this gateway.`, { status: 400 });
  return { $type: 'Float', _value: formatFloat(Number(sum._value) / n) };
}

export { NULL };
