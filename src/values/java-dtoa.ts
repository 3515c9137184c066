/**
 * The digits of JDK 17's `Double.toString` / `Float.toString`: a faithful port of OpenJDK 17's
 * `jdk.internal.math.FloatingDecimal.BinaryToASCIIBuffer.dtoa` (the digit search) and `getChars`
 * (the Java layout of the digits), including its 32- and 64-bit integer overflow behaviour, kept
 * close to the JDK's code so it can be read against it. java-double.ts says why a port, decodes
 * the IEEE bits and calls it when no shortcut gives the same digits.
 *
 * Must never: use `String(x)` / `toExponential` for digits (they are JavaScript's, not Java's), or
 * depend on anything but plain arithmetic (it is runtime-neutral and on the hot path of every Float
 * a Bolt transport converts).
 */

const N_5_BITS = [0, 3, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28, 31, 33, 35, 38, 40, 42, 45, 47, 49, 52, 54, 56, 59, 61];
/** 5^0 .. 5^13 (FDBigInteger.SMALL_5_POW) */
const SMALL_5_POW: number[] = Array.from({ length: 14 }, (_, i) => 5 ** i);
/** 5^0 .. 5^26 (FDBigInteger.LONG_5_POW) */
const LONG_5_POW: bigint[] = Array.from({ length: 27 }, (_, i) => 5n ** BigInt(i));
const INSIGNIFICANT_DIGITS_NUMBER = [
  0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 8, 8, 8, 9, 9, 9, 9, 10, 10, 10, 11, 11, 11, 12, 12, 12, 12, 13, 13, 13, 14,
  14, 14, 15, 15, 15, 15, 16, 16, 16, 17, 17, 17, 18, 18, 18, 19,
];
export const EXP_SHIFT = 52;
const MAX_SMALL_BIN_EXP = 62;
const MIN_SMALL_BIN_EXP = -21;
export const TWO_52 = 2 ** 52;

/** 5^i as bigint, filled on demand (at most 5^1100 for the smallest subnormal) */
const POW5: bigint[] = [1n];
function pow5(i: number): bigint {
  for (let k = POW5.length; k <= i; k++) POW5.push(POW5[k - 1]! * 5n);
  return POW5[i]!;
}

function i64(x: bigint): bigint {
  return BigInt.asIntN(64, x);
}

/** trailing zero bits of a positive integer below 2^64 held exactly in a double */
function trailingZeros(x: number): number {
  const lo = x % 4294967296;
  if (lo !== 0) return 31 - Math.clz32(lo & -lo);
  const hi = Math.floor(x / 4294967296);
  return 32 + 31 - Math.clz32(hi & -hi);
}

/** floor of the JDK's decimal-exponent estimate (estimateDecExp; plain IEEE arithmetic, same in JS) */
function estimateDecExp(fractBits: number, binExp: number): number {
  const d2 = 1 + (fractBits % TWO_52) / TWO_52;
  const d = (d2 - 1.5) * 0.289529654 + 0.176091259 + binExp * 0.301029995663981;
  return Math.floor(d);
}

function developLongDigits(lvalue: number | bigint, insignificant: number): { digits: number[]; decExponent: number } {
  let text: string;
  if (insignificant !== 0) {
    let l = BigInt(lvalue);
    const pow10 = LONG_5_POW[insignificant]! << BigInt(insignificant);
    const residue = l % pow10;
    l /= pow10;
    if (residue >= pow10 >> 1n) l++;
    text = l.toString();
  } else {
    text = typeof lvalue === 'number' ? String(lvalue) : lvalue.toString();
  }
  let end = text.length;
  while (text.charCodeAt(end - 1) === 48) end--;
  const digits: number[] = [];
  for (let i = 0; i < end; i++) digits.push(text.charCodeAt(i) - 48);
  return { digits, decExponent: insignificant + text.length };
}

/** fractBits: the significand with its high-order bit at 2^52, an integer held exactly in a double */
export function dtoa(binExp: number, fractBitsIn: number, nSignificantBits: number): { digits: number[]; decExponent: number } {
  let fractBits = fractBitsIn;
  const tailZeros = trailingZeros(fractBits);
  const nFractBits = EXP_SHIFT + 1 - tailZeros;
  const nTinyBits = Math.max(0, nFractBits - binExp - 1);
  if (binExp <= MAX_SMALL_BIN_EXP && binExp >= MIN_SMALL_BIN_EXP) {
    if (nTinyBits < LONG_5_POW.length && nFractBits + N_5_BITS[nTinyBits]! < 64) {
      if (nTinyBits === 0) {
        const p2 = binExp - nSignificantBits - 1;
        const insignificant = binExp > nSignificantBits && p2 > 1 && p2 < INSIGNIFICANT_DIGITS_NUMBER.length ? INSIGNIFICANT_DIGITS_NUMBER[p2]! : 0;
        // the value is the integer fractBits * 2^(binExp - 52), below 2^63
        const lvalue =
          binExp >= EXP_SHIFT ? (binExp - EXP_SHIFT <= 0 ? fractBits : BigInt(fractBits) << BigInt(binExp - EXP_SHIFT)) : fractBits / 2 ** (EXP_SHIFT - binExp);
        return developLongDigits(typeof lvalue === 'bigint' && lvalue <= 9007199254740992n ? Number(lvalue) : lvalue, insignificant);
      }
    }
  }
  let decExp = estimateDecExp(fractBits, binExp);
  const B5 = Math.max(0, -decExp);
  let B2 = B5 + nTinyBits + binExp;
  const S5 = Math.max(0, decExp);
  let S2 = S5 + nTinyBits;
  const M5 = B5;
  let M2 = B2 - nSignificantBits;

  fractBits /= 2 ** tailZeros;
  B2 -= nFractBits - 1;
  const common2factor = Math.min(B2, S2);
  B2 -= common2factor;
  S2 -= common2factor;
  M2 -= common2factor;
  if (nFractBits === 1) M2 -= 1;
  if (M2 < 0) {
    B2 -= M2;
    S2 -= M2;
    M2 = 0;
  }

  const digits: number[] = [];
  let low: boolean;
  let high: boolean;
  let lowDigitDifference: number; // only its sign matters
  let q: number;
  const Bbits = nFractBits + B2 + (B5 < N_5_BITS.length ? N_5_BITS[B5]! : B5 * 3);
  const tenSbits = S2 + 1 + (S5 + 1 < N_5_BITS.length ? N_5_BITS[S5 + 1]! : (S5 + 1) * 3);
  if (Bbits < 64 && tenSbits < 64) {
    if (Bbits < 32 && tenSbits < 32) {
      // 32-bit int arithmetic, overflow included
      let b = Math.imul(fractBits | 0, SMALL_5_POW[B5]!) << B2;
      const s = SMALL_5_POW[S5]! << S2;
      let m = SMALL_5_POW[M5]! << M2;
      const tens = Math.imul(s, 10);
      q = Math.trunc(b / s);
      b = Math.imul(10, b % s);
      m = Math.imul(m, 10);
      low = b < m;
      high = ((b + m) | 0) > tens;
      if (q === 0 && !high) decExp--;
      else digits.push(q);
      if (decExp < -3 || decExp >= 8) high = low = false;
      while (!low && !high) {
        q = Math.trunc(b / s);
        b = Math.imul(10, b % s);
        m = Math.imul(m, 10);
        if (m > 0) {
          low = b < m;
          high = ((b + m) | 0) > tens;
        } else {
          low = true;
          high = true;
        }
        digits.push(q);
      }
      lowDigitDifference = ((b << 1) - tens) | 0;
    } else if (Bbits <= 49 && tenSbits <= 49 && M2 + (M5 < N_5_BITS.length ? N_5_BITS[M5]! : M5 * 3) <= 45) {
      // 64-bit long arithmetic whose values all stay below 2^53 (m < tens between digits, so
      // nothing reaches 2^63 and overflows): exact in doubles, and much cheaper than bigint
      let b = fractBits * Number(LONG_5_POW[B5]!) * 2 ** B2;
      const s = Number(LONG_5_POW[S5]!) * 2 ** S2;
      let m = Number(LONG_5_POW[M5]!) * 2 ** M2;
      const tens = s * 10;
      q = Math.trunc(b / s);
      b = 10 * (b % s);
      m *= 10;
      low = b < m;
      high = b + m > tens;
      if (q === 0 && !high) decExp--;
      else digits.push(q);
      if (decExp < -3 || decExp >= 8) high = low = false;
      while (!low && !high) {
        q = Math.trunc(b / s);
        b = 10 * (b % s);
        m *= 10;
        low = b < m;
        high = b + m > tens;
        digits.push(q);
      }
      lowDigitDifference = Math.sign(2 * b - tens);
    } else {
      // 64-bit long arithmetic, overflow included
      let b = i64(i64(BigInt(fractBits) * LONG_5_POW[B5]!) << BigInt(B2));
      const s = i64(LONG_5_POW[S5]! << BigInt(S2));
      let m = i64(LONG_5_POW[M5]! << BigInt(M2));
      const tens = i64(s * 10n);
      q = Number(b / s);
      b = i64(10n * (b % s));
      m = i64(m * 10n);
      low = b < m;
      high = i64(b + m) > tens;
      if (q === 0 && !high) decExp--;
      else digits.push(q);
      if (decExp < -3 || decExp >= 8) high = low = false;
      while (!low && !high) {
        q = Number(b / s);
        b = i64(10n * (b % s));
        m = i64(m * 10n);
        if (m > 0n) {
          low = b < m;
          high = i64(b + m) > tens;
        } else {
          low = true;
          high = true;
        }
        digits.push(q);
      }
      const diff = i64((b << 1n) - tens);
      lowDigitDifference = diff > 0n ? 1 : diff < 0n ? -1 : 0;
    }
  } else {
    // FDBigInteger arithmetic: exact (the JDK's normalisation shift scales every term alike)
    const S = pow5(S5) << BigInt(S2);
    let B = (BigInt(fractBits) * pow5(B5)) << BigInt(B2);
    let M = pow5(M5 + 1) << BigInt(M2 + 1);
    const tenS = pow5(S5 + 1) << BigInt(S2 + 1);
    q = Number(B / S);
    B = (B % S) * 10n;
    low = B < M;
    high = tenS <= B + M;
    if (q === 0 && !high) decExp--;
    else digits.push(q);
    if (decExp < -3 || decExp >= 8) high = low = false;
    while (!low && !high) {
      q = Number(B / S);
      B = (B % S) * 10n;
      M = M * 10n;
      low = B < M;
      high = tenS <= B + M;
      digits.push(q);
    }
    if (high && low) {
      const twice = B << 1n;
      lowDigitDifference = twice > tenS ? 1 : twice < tenS ? -1 : 0;
    } else {
      lowDigitDifference = 0;
    }
  }
  let decExponent = decExp + 1;
  if (high) {
    const roundUp = !low || lowDigitDifference > 0 || (lowDigitDifference === 0 && (digits[digits.length - 1]! & 1) !== 0);
    if (roundUp) {
      // FloatingDecimal.roundup
      let i = digits.length - 1;
      let d = digits[i]!;
      if (d === 9) {
        while (d === 9 && i > 0) {
          digits[i] = 0;
          d = digits[--i]!;
        }
        if (d === 9) {
          decExponent += 1;
          digits[0] = 1;
          return { digits, decExponent };
        }
      }
      digits[i] = d + 1;
    }
  }
  return { digits, decExponent };
}

/** FloatingDecimal.getChars: the Java layout of a digit string and its decimal exponent */
export function getChars(negative: boolean, digits: string, decExponent: number): string {
  let out = negative ? '-' : '';
  const nDigits = digits.length;
  if (decExponent > 0 && decExponent < 8) {
    const charLength = Math.min(nDigits, decExponent);
    out += digits.slice(0, charLength);
    if (charLength < decExponent) out += '0'.repeat(decExponent - charLength) + '.0';
    else out += '.' + (charLength < nDigits ? digits.slice(charLength) : '0');
  } else if (decExponent <= 0 && decExponent > -3) {
    out += '0.' + '0'.repeat(-decExponent) + digits;
  } else {
    out += `${digits[0]}.${nDigits > 1 ? digits.slice(1) : '0'}E`;
    out += decExponent <= 0 ? `-${-decExponent + 1}` : `${decExponent - 1}`;
  }
  return out;
}
