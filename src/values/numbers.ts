/**
 * Neo4j's number semantics for Integer (a Java long, held here as a bigint) and Float (a Java
 * double): the ORDER BY comparison, the equality DISTINCT and grouping use, and overflow-widening
 * addition, each a port of Neo4j 5.26's `org.neo4j.values.storable` code (NumberValues,
 * IntegralValue, FloatingPointValue, ValueMath), not of mathematics:
 *
 * - Float vs Float: Java's `Double.compare` (-0.0 < 0.0, NaN above +Infinity, NaN equal to NaN).
 * - Integer vs Float (`compareDoubleAgainstLong`): for 0 <= i < 2^53, as doubles; otherwise the
 *   double is read as the decimal `Double.toString` prints (`BigDecimal.valueOf`), so 2^60 as a
 *   Float (printed 1.15292150460684698E18) sorts after the Integer 1152921504606846977 although it
 *   is mathematically smaller. 9007199254740993 vs 9007199254740992.0 is exact (Integer larger).
 * - equality (`numbersEqual`): exact, except that a Float of 2^63 equals Long.MAX_VALUE (Java's
 *   saturating cast); 0 = 0.0 = -0.0; NaN equals nothing, itself included.
 * - addition of two Integers that overflows gives the Float (double)a + (double)b.
 *
 * Must never: convert a big Integer to a double where Neo4j does not (that loses digits), or
 * compare by mathematical value where Neo4j does not.
 */
import { javaDoubleToString } from './java-double.js';

export const LONG_MIN = -9223372036854775808n;
export const LONG_MAX = 9223372036854775807n;
const TWO_53 = 9007199254740992n;
/** 2^63 as a double: what Java's Long.MAX_VALUE becomes in a comparison with a double */
export const TWO_63 = 2 ** 63;

/** Java's Double.compare: -0.0 < 0.0, NaN greater than everything and equal to itself */
export function javaDoubleCompare(a: number, b: number): number {
  if (a < b) return -1;
  if (a > b) return 1;
  const an = Number.isNaN(a);
  const bn = Number.isNaN(b);
  if (an || bn) return an === bn ? 0 : an ? 1 : -1;
  // equal, or 0.0 vs -0.0
  if (a === 0) {
    const az = Object.is(a, -0);
    const bz = Object.is(b, -0);
    return az === bz ? 0 : az ? -1 : 1;
  }
  return 0;
}

/** sign of (decimal text of a finite double) - l, exactly */
function compareDecimalTextWithLong(text: string, l: bigint): number {
  const negative = text.startsWith('-');
  const body = negative ? text.slice(1) : text;
  const e = body.indexOf('E');
  const mantissa = e >= 0 ? body.slice(0, e) : body;
  let exponent = e >= 0 ? Number(body.slice(e + 1)) : 0;
  const dot = mantissa.indexOf('.');
  let digits = mantissa;
  if (dot >= 0) {
    digits = mantissa.slice(0, dot) + mantissa.slice(dot + 1);
    exponent -= mantissa.length - dot - 1;
  }
  let m = BigInt(digits);
  if (negative) m = -m;
  // compare m * 10^exponent with l
  if (exponent >= 0) {
    const left = m * 10n ** BigInt(exponent);
    return left < l ? -1 : left > l ? 1 : 0;
  }
  const right = l * 10n ** BigInt(-exponent);
  return m < right ? -1 : m > right ? 1 : 0;
}

/** NumberValues.compareDoubleAgainstLong */
export function compareDoubleWithLong(d: number, l: bigint): number {
  if (l >= 0n && l < TWO_53) return javaDoubleCompare(d, Number(l));
  if (Number.isNaN(d)) return 1;
  if (d === Infinity) return 1;
  if (d === -Infinity) return -1;
  // |l| < 2^53 (negative): the decimal Java prints orders like the double itself against an
  // integer that a double holds exactly, so compare as doubles (cheap)
  if (l < 0n && l > -TWO_53) {
    const x = Number(l);
    return d < x ? -1 : d > x ? 1 : 0;
  }
  return compareDecimalTextWithLong(javaDoubleToString(d), l);
}

/** NumberValues.numbersEqual(double, long) */
export function doubleEqualsLong(d: number, l: bigint): boolean {
  if (!Number.isFinite(d) || Math.floor(d) !== d) return false;
  // fpn > Long.MAX_VALUE and fpn < Long.MIN_VALUE, both read as doubles (2^63)
  if (d > TWO_63 || d < -TWO_63) return false;
  // (long) d saturates: 2^63 becomes Long.MAX_VALUE
  const asLong = d === TWO_63 ? LONG_MAX : BigInt(d);
  return asLong === l;
}

export type NumberParts = { kind: 'int'; value: bigint } | { kind: 'float'; value: number };

/** Neo4j's ORDER BY comparison of two numbers */
export function compareNumbers(a: NumberParts, b: NumberParts): number {
  if (a.kind === 'int') {
    if (b.kind === 'int') return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
    const c = compareDoubleWithLong(b.value, a.value);
    return c === 0 ? 0 : -c;
  }
  if (b.kind === 'int') return compareDoubleWithLong(a.value, b.value);
  return javaDoubleCompare(a.value, b.value);
}

/**
 * The canonical text of a number's equivalence class (1 and 1.0 share one; 2^63 as a Float and
 * Long.MAX_VALUE share one), or undefined for NaN, which equals nothing.
 */
export function numberClassKey(n: NumberParts): string | undefined {
  if (n.kind === 'int') return n.value.toString();
  const d = n.value;
  if (Number.isNaN(d)) return undefined;
  if (d === 0) return '0';
  if (Number.isFinite(d) && Math.floor(d) === d && d >= -TWO_63 && d <= TWO_63) {
    if (Number.isSafeInteger(d)) return String(d);
    return (d === TWO_63 ? LONG_MAX : BigInt(d)).toString();
  }
  return `f${javaDoubleToString(d)}`;
}

/** ValueMath.overflowSafeAdd for two longs: a Float when the sum leaves the long range */
export function addLongs(a: bigint, b: bigint): NumberParts {
  const r = a + b;
  if (r > LONG_MAX || r < LONG_MIN) return { kind: 'float', value: Number(a) + Number(b) };
  return { kind: 'int', value: r };
}

/** NumberValue.plus / ValueMath.overflowSafeAdd: Integer + Integer widens on overflow, else doubles */
export function addNumbers(a: NumberParts, b: NumberParts): NumberParts {
  if (a.kind === 'int' && b.kind === 'int') return addLongs(a.value, b.value);
  return { kind: 'float', value: toDouble(a) + toDouble(b) };
}

/** NumberValue.doubleValue: a long converted to the nearest double, as Java does */
export function toDouble(n: NumberParts): number {
  return n.kind === 'int' ? Number(n.value) : n.value;
}
