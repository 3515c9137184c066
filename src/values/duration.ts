/**
 * Neo4j's Duration (`org.neo4j.values.storable.DurationValue`): four fields (months, days, seconds,
 * nanos with 0 <= nanos < 1e9), read from and written to the text Neo4j prints ("P1Y2M3DT4H5M6.7S",
 * "PT-1M-30S", "PT0S"), with Neo4j's order (average length, then nanos, months, days, seconds),
 * its equality (all four fields), its addition (exact, an error on long overflow) and the
 * `approximate(...).normalize()` that avg() ends with.
 *
 * Must never: normalise days into months or seconds into days except where Neo4j does
 * (`normalize()` after avg), or lose digits of a field (months, days and seconds are Java longs,
 * held as bigints).
 */
import { Codes } from '../errors/index.js';
import { LONG_MAX, LONG_MIN, TWO_63 } from './numbers.js';

export interface Duration {
  months: bigint;
  days: bigint;
  seconds: bigint;
  /** 0 <= nanos < 1e9 */
  nanos: number;
}

const NANOS = 1_000_000_000n;
const AVG_SECONDS_PER_MONTH = 2_629_746n;
const SECONDS_PER_DAY = 86_400n;
const AVG_NANOS_PER_MONTH = 2_629_746_000_000_000;

/** Neo4j's error for a duration out of the long range, with the status code Neo4j gives it */
export class DurationOverflow extends Error {
  constructor(
    message: string,
    readonly code: typeof Codes.ArgumentError | typeof Codes.ArithmeticError = Codes.ArgumentError,
  ) {
    super(message);
  }
}

function exact(x: bigint): bigint {
  if (x > LONG_MAX || x < LONG_MIN) throw new RangeError('long overflow');
  return x;
}

/** DurationValue.assertNoOverflow, on the fields as given (before nanos are normalised) */
function assertNoOverflow(months: bigint, days: bigint, seconds: bigint, nanos: bigint): void {
  try {
    let secondsWithNanos = exact(seconds + nanos / NANOS);
    if (nanos < 0n) secondsWithNanos = exact(secondsWithNanos - 1n);
    for (const s of [seconds, secondsWithNanos]) exact(s + exact(exact(days * SECONDS_PER_DAY) + exact(months * AVG_SECONDS_PER_MONTH)));
  } catch {
    throw new DurationOverflow(`Invalid value for duration, will cause overflow. Value was months=${months}, days=${days}, seconds=${seconds}, nanos=${nanos}`);
  }
}

/** DurationValue's constructor: seconds absorb whole seconds of nanos, nanos end in [0, 1e9) */
export function durationOf(months: bigint, days: bigint, seconds: bigint, nanos: bigint): Duration {
  assertNoOverflow(months, days, seconds, nanos);
  let s = seconds + nanos / NANOS;
  let n = nanos % NANOS;
  if (n < 0n) {
    s -= 1n;
    n += NANOS;
  }
  return { months, days, seconds: s, nanos: Number(n) };
}

// ISO unit form, as DurationValue.PATTERN's unit-based half reads it
const UNIT_RE =
  /^([-+]?)P(?:([-+]?\d+(?:[.,]\d+)?)Y)?(?:([-+]?\d+(?:[.,]\d+)?)M)?(?:([-+]?\d+(?:[.,]\d+)?)W)?(?:([-+]?\d+(?:[.,]\d+)?)D)?(T(?:([-+]?\d+(?:[.,]\d+)?)H)?(?:([-+]?\d+(?:[.,]\d+)?)M)?(?:([-+]?\d+)(?:[.,](\d{1,9}))?S)?)?$/i;

function fractional(s: string | undefined): boolean {
  return s !== undefined && /[.,]/.test(s);
}
function toNum(s: string): number {
  return Number(s.replace(',', '.'));
}
function toLong(s: string | undefined): bigint {
  return s === undefined ? 0n : BigInt(s.replace(/^\+/, ''));
}

/** DurationValue.parse (unit-based forms, fractions included) */
export function parseDuration(text: string): Duration {
  const m = UNIT_RE.exec(text);
  if (!m || text.replace(/^[-+]/, '').length === 1 || /T$/i.test(text))
    throw new TypeError(`Not a Duration value as Neo4j writes it: ${JSON.stringify(text)}.`);
  const sign = m[1] === '-' ? -1n : 1n;
  const [, , y, mo, w, d, , h, mi, s, sub] = m;
  const signNum = Number(sign);
  if (fractional(y)) return approximate(toNum(y!) * 12, 0, 0, 0, signNum);
  const monthsAcc = toLong(y) * 12n;
  if (fractional(mo)) return approximate(Number(monthsAcc) + toNum(mo!), 0, 0, 0, signNum);
  const months = monthsAcc + toLong(mo);
  if (fractional(w)) return approximate(Number(months), toNum(w!) * 7, 0, 0, signNum);
  const weeksDays = toLong(w) * 7n;
  if (fractional(d)) return approximate(Number(months), Number(weeksDays) + toNum(d!), 0, 0, signNum);
  const days = weeksDays + toLong(d);
  if (fractional(h)) return approximate(Number(months), Number(days), toNum(h!) * 3600, 0, signNum);
  const hourSeconds = toLong(h) * 3600n;
  if (fractional(mi)) return approximate(Number(months), Number(days), Number(hourSeconds) + toNum(mi!) * 60, 0, signNum);
  const seconds = hourSeconds + toLong(mi) * 60n + toLong(s);
  let nanos = sub === undefined ? 0n : BigInt(sub.padEnd(9, '0'));
  if (nanos !== 0n && s!.startsWith('-')) nanos = -nanos;
  return durationOf(sign * months, sign * days, sign * seconds, sign * nanos);
}

function trunc(x: bigint, y: bigint): bigint {
  return x / y; // bigint division truncates like Java's
}

/** DurationValue.prettyPrint */
export function formatDuration(v: Duration): string {
  const { months, days, seconds, nanos } = v;
  if (months === 0n && days === 0n && seconds === 0n && nanos === 0) return 'PT0S';
  let str = 'P';
  const append = (q: bigint, unit: string) => {
    if (q !== 0n) str += `${q}${unit}`;
  };
  append(trunc(months, 12n), 'Y');
  append(months % 12n, 'M');
  append(days, 'D');
  if (seconds !== 0n || nanos !== 0) {
    const negative = seconds < 0n;
    let s = seconds;
    let n = nanos;
    if (negative && nanos !== 0) {
      s++;
      n -= 1e9;
    }
    str += 'T';
    append(trunc(s, 3600n), 'H');
    s %= 3600n;
    append(trunc(s, 60n), 'M');
    s %= 60n;
    const frac = (x: number) => '.' + String(Math.abs(x)).padStart(9, '0').replace(/0+$/, '');
    if (s !== 0n) {
      if (negative && s >= 0n && n !== 0) str += '-';
      str += `${s}${n !== 0 ? frac(n) : ''}S`;
    } else if (n !== 0) {
      str += `${negative ? '-' : ''}0${frac(n)}S`;
    }
  }
  if (str.length === 1) str += 'T0S';
  return str;
}

/** DurationValue.COMPARATOR: average length in seconds, then nanos, months, days, seconds */
export function compareDurations(a: Duration, b: Duration): number {
  const la = a.seconds + a.days * SECONDS_PER_DAY + a.months * AVG_SECONDS_PER_MONTH;
  const lb = b.seconds + b.days * SECONDS_PER_DAY + b.months * AVG_SECONDS_PER_MONTH;
  const c = (x: bigint, y: bigint) => (x < y ? -1 : x > y ? 1 : 0);
  return c(la, lb) || (a.nanos < b.nanos ? -1 : a.nanos > b.nanos ? 1 : 0) || c(a.months, b.months) || c(a.days, b.days) || c(a.seconds, b.seconds);
}

export function durationKey(v: Duration): string {
  return `${v.months},${v.days},${v.seconds},${v.nanos}`;
}

/** DurationValue.add: exact field sums; throws DurationOverflow where Neo4j raises its error */
export function addDurations(a: Duration, b: Duration): Duration {
  let fields: [bigint, bigint, bigint];
  try {
    fields = [exact(a.months + b.months), exact(a.days + b.days), exact(a.seconds + b.seconds)];
  } catch {
    throw new DurationOverflow(`Can not add duration ${formatDuration(a)} and ${formatDuration(b)} without causing overflow.`);
  }
  return durationOf(...fields, BigInt(a.nanos + b.nanos));
}

/** DurationValue.safeDoubleToLong: Java's (long) cast, refusing values outside the long range */
function safeDoubleToLong(d: number): bigint {
  if (d > TWO_63 || d < -TWO_63) throw new DurationOverflow('long overflow', Codes.ArithmeticError);
  if (Number.isNaN(d)) return 0n;
  return d === TWO_63 ? LONG_MAX : BigInt(Math.trunc(d));
}

/** DurationValue.approximate: whole units, remainders carried into the smaller units */
export function approximate(monthsIn: number, daysIn: number, secondsIn: number, nanosIn: number, sign = 1): Duration {
  let days = daysIn;
  let seconds = secondsIn;
  let nanos = nanosIn;
  const monthsAsLong = safeDoubleToLong(monthsIn);
  const monthDiffInNanos = AVG_NANOS_PER_MONTH * (monthsIn - Number(monthsAsLong));
  days += monthDiffInNanos / (1e9 * 86400);
  const daysAsLong = safeDoubleToLong(days);
  const daysDiffInNanos = 1e9 * 86400 * (days - Number(daysAsLong));
  seconds += daysDiffInNanos / 1e9;
  const secondsAsLong = safeDoubleToLong(seconds);
  const secondsDiffInNanos = 1e9 * (seconds - Number(secondsAsLong));
  nanos += secondsDiffInNanos;
  const nanosAsLong = safeDoubleToLong(nanos);
  const s = BigInt(sign);
  return durationOf(s * monthsAsLong, s * daysAsLong, s * secondsAsLong, s * nanosAsLong);
}

/** DurationValue.normalize: nanos below a second, seconds below a day (days stay apart from months) */
export function normalize(v: Duration): Duration {
  let d = v.days;
  let s = v.seconds;
  let n = BigInt(v.nanos);
  if (n < NANOS && s < SECONDS_PER_DAY) return v;
  if (n >= NANOS) {
    const extra = n / NANOS;
    s += extra;
    n -= extra * NANOS;
  }
  if (s >= SECONDS_PER_DAY) {
    const extra = s / SECONDS_PER_DAY;
    d += extra;
    s -= extra * SECONDS_PER_DAY;
  }
  return durationOf(v.months, d, s, n);
}
