/**
 * Java's `Double.toString(double)` and `Float.toString(float)` exactly as JDK 17 prints them: the
 * text Neo4j 5.26 writes for a Float in typed JSON (`{"$type": "Float", "_value": ...}`), in point
 * coordinates, and (for doubles exactly representable as a float) in plain JSON.
 *
 * JDK 17 does not print the shortest decimal that reads back to the same double (JavaScript's
 * `String(x)` does): its `FloatingDecimal` sometimes prints more digits, e.g. 1e23 as
 * `9.999999999999999E22` and 2.82879384806159E17 as `2.82879384806159008E17` (JDK-4511638, fixed
 * only in JDK 19). java-dtoa.ts is a faithful port of `jdk.internal.math.FloatingDecimal
 * .BinaryToASCIIBuffer.dtoa` and `getChars` (OpenJDK 17), including its 32- and 64-bit integer
 * overflow behaviour, so the gateway answers byte for byte like a Neo4j running on JDK 17. (A Neo4j
 * running on JDK 21 prints shortest digits; this module would then differ on those rare doubles.)
 * This module decodes a double's or a float's bits for it, and answers without it where
 * JavaScript's shortest digits are provably Java's (fastPath).
 *
 * Must never: take JavaScript's digits (`String(x)` / `toExponential`) where they may differ from
 * Java's (outside the proven fast paths), or depend on anything but plain arithmetic (it is
 * runtime-neutral and on the hot path of every Float a Bolt transport converts).
 */
import { dtoa, EXP_SHIFT, getChars, TWO_52 } from './java-dtoa.js';

const view = new DataView(new ArrayBuffer(8));

function ported(negative: boolean, r: { digits: number[]; decExponent: number }): string {
  return getChars(negative, r.digits.join(''), r.decExponent);
}

/**
 * The fast path: when the shortest decimal (JavaScript's) has at most `maxDigits` significant
 * digits and |x| is a normal number below 2^precision, no decimal of that length can sit on a
 * rounding boundary (a boundary has precision+1 significant bits, which such a short decimal
 * cannot have there), so Java's open-interval, closest-digit search finds exactly those digits.
 * Checked against the JVM on millions of values (test/unit/values-java-double.test.ts holds a
 * sample). Returns undefined when the full port must run.
 */
function fastPath(x: number, maxDigits: number): string | undefined {
  const e = x.toExponential();
  const negative = x < 0;
  const i = e.indexOf('e');
  const first = negative ? 1 : 0;
  const digits = i - first > 1 ? e[first] + e.slice(first + 2, i) : e.slice(first, i);
  if (digits.length > maxDigits) return undefined;
  return getChars(negative, digits, Number(e.slice(i + 1)) + 1);
}

/** significant digits of a number in plain decimal notation ("-0.00120" has 3) */
function significantDigits(text: string): number {
  let first = -1;
  let last = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 49 && c <= 57) {
      if (first < 0) first = i;
      last = i;
    } else if (c === 48 && first >= 0) {
      // a zero counts once a later non-zero digit follows; trailing zeros of an integer count too
      if (!text.includes('.') || i < text.indexOf('.')) last = i;
    }
  }
  if (first < 0) return 0;
  let n = 0;
  for (let i = first; i <= last; i++) if (text.charCodeAt(i) !== 46) n++;
  return n;
}

const MIN_NORMAL_DOUBLE = 2.2250738585072014e-308;
const MIN_NORMAL_FLOAT = 1.1754943508222875e-38;

/** `Double.toString(d)` as JDK 17 prints it. */
export function javaDoubleToString(d: number): string {
  if (Number.isNaN(d)) return 'NaN';
  if (d === Infinity) return 'Infinity';
  if (d === -Infinity) return '-Infinity';
  if (d === 0) return Object.is(d, -0) ? '-0.0' : '0.0';
  const abs = Math.abs(d);
  if (abs >= 1e-3 && abs < 1e7) {
    // Java prints these in plain notation, as String() does; same digits when there are at most
    // 15 significant ones (see fastPath)
    const text = String(d);
    if (significantDigits(text) <= 15) return text.includes('.') ? text : `${text}.0`;
  }
  if (abs >= MIN_NORMAL_DOUBLE && abs < 9007199254740992) {
    const fast = fastPath(d, 15);
    if (fast !== undefined) return fast;
  }
  view.setFloat64(0, d);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const negative = hi >>> 31 === 1;
  let fractBits = (hi & 0xfffff) * 4294967296 + lo;
  let binExp = (hi >>> 20) & 0x7ff;
  let nSignificantBits: number;
  if (binExp === 0) {
    const leadingZeros = (hi & 0xfffff) !== 0 ? Math.clz32(hi & 0xfffff) : 32 + Math.clz32(lo);
    const shift = leadingZeros - (63 - EXP_SHIFT);
    fractBits *= 2 ** shift;
    binExp = 1 - shift;
    nSignificantBits = 64 - leadingZeros;
  } else {
    fractBits += TWO_52;
    nSignificantBits = EXP_SHIFT + 1;
  }
  binExp -= 1023;
  return ported(negative, dtoa(binExp, fractBits, nSignificantBits));
}

/** `Float.toString(f)` as JDK 17 prints it; `f` must be a float32 value (`Math.fround(f) === f`). */
export function javaFloatToString(f: number): string {
  if (Number.isNaN(f)) return 'NaN';
  if (f === Infinity) return 'Infinity';
  if (f === -Infinity) return '-Infinity';
  if (f === 0) return Object.is(f, -0) ? '-0.0' : '0.0';
  const abs = Math.abs(f);
  if (abs >= MIN_NORMAL_FLOAT && abs < 16777216) {
    const fast = fastPath(f, 6);
    if (fast !== undefined) return fast;
  }
  view.setFloat32(0, f);
  const bits = view.getUint32(0);
  const negative = bits >>> 31 === 1;
  let fractBits = bits & 0x7fffff;
  let binExp = (bits >>> 23) & 0xff;
  let nSignificantBits: number;
  if (binExp === 0) {
    const leadingZeros = Math.clz32(fractBits);
    const shift = leadingZeros - (31 - 23);
    fractBits <<= shift;
    binExp = 1 - shift;
    nSignificantBits = 32 - leadingZeros;
  } else {
    fractBits |= 1 << 23;
    nSignificantBits = 24;
  }
  binExp -= 127;
  return ported(negative, dtoa(binExp, fractBits * 2 ** (EXP_SHIFT - 23), nSignificantBits));
}
