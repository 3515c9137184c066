/**
 * Neo4j 5.26's aggregating functions over typed-JSON values, fed one value per row in arrival
 * order, with Neo4j's own algorithms and result types (ports of the interpreted runtime's
 * `pipes.aggregation.*Function` and `ValueMath`), and the combiners that merge per-shard partial
 * results of count, sum, min, max and avg.
 *
 * What each aggregator reproduces exactly (for the same values in the same order):
 * - nulls are skipped; count counts non-null values (count(*): feed any non-null value per row);
 * - sum: Integer while the running sum fits a long; on overflow it becomes the Float
 *   (double)a + (double)b and continues in doubles; a Float anywhere makes it a Float; Durations
 *   add field by field (an error on long overflow); empty: Integer 0; numbers mixed with
 *   durations: TypeError;
 * - avg: Neo4j's incremental mean `avg += (x - avg) / n` (with its NaN/Infinity rules), so
 *   avg([-4,-5,-5,5,-2,9,2]) is -2.7755575615628914E-16, not 0.0; Durations: running means of
 *   months, days, seconds and nanos, then approximate().normalize(); empty: null;
 * - min, max: compareOrderBy (order.ts) over all types; the first of equal values wins;
 * - collect: the list of non-null values; empty: [];
 * - percentileDisc, percentileCont: values sorted by their double value (stable, like Java's
 *   List.sort with Double.compare), Neo4j's index arithmetic; percentileDisc returns one of the
 *   values itself (an Integer stays an Integer); percentileCont interpolates in doubles, but with
 *   one value or percentile 1.0 returns the value itself; the percentile is checked (0.0 to 1.0,
 *   a number) when the first number arrives, so an empty input never fails; empty: null;
 * - stDev, stDevP: Welford's running mean and sum of squares, as Neo4j; one value: 0.0; empty: null;
 * - DISTINCT: the first value of each equivalence class (equivalence.ts) is fed, others dropped.
 * Errors are GatewayErrors with Neo4j's codes (Neo.ClientError.Statement.TypeError,
 * .ArgumentError, .ArithmeticError); messages are ours (Neo4j's name its internal slots).
 *
 * Combiners (decomposed aggregation: each shard computed count/sum/min/max/avg of its own rows):
 * - combineCount, and combineSum of Durations or of Integers whose total fits a long: exact;
 * - combineMin / combineMax: the same value as Neo4j, except which of two equal values (1 and
 *   1.0) is returned: Neo4j returns the first in its row order, here the first partial's;
 * - combineSum with Floats, or Integers overflowing: Neo4j's result depends on the order rows
 *   reach the aggregation (float addition is not associative; an Integer sum that overflows on
 *   the way becomes a Float even if the total fits). A sharded store has no such single order,
 *   so these are the best reconstruction: partial sums added in doubles, in partial order; an
 *   Integer total that fits a long stays an exact Integer;
 * - combineAvg: when exactly one part has rows, that part's own avg unchanged (bit-exact with
 *   Neo4j for the same rows); otherwise the correctly rounded mean of the exact total (Integer
 *   sums) or sum/count in doubles (Float sums), and for Durations the exact per-field means
 *   through Neo4j's approximate().normalize(). Neo4j's incremental mean also depends on row
 *   order, so these are close (within a few ulps for numbers) but not guaranteed bit-exact.
 *
 * Must never: raise an error Neo4j would not raise, or return a type Neo4j would not return
 * (Integer vs Float matters to clients).
 */
import { Codes, GatewayError } from '../errors/index.js';
import type { TypedValue } from './typed.js';
import { addDurations, approximate, durationOf, DurationOverflow, formatDuration, normalize, type Duration } from './duration.js';
import { equivalenceKey } from './equivalence.js';
import { javaDoubleToString } from './java-double.js';
import { addNumbers, javaDoubleCompare, toDouble, type NumberParts } from './numbers.js';
import { compareOrderBy } from './order.js';
import { durationValueOf, numberOf } from './read.js';

export type AggregateName = 'count' | 'sum' | 'avg' | 'min' | 'max' | 'collect' | 'percentileDisc' | 'percentileCont' | 'stDev' | 'stDevP';

export interface Aggregator {
  add(v: TypedValue): void;
  result(): TypedValue;
}

/** Neo4j's codes for the errors its aggregating functions raise */

const NULL: TypedValue = { $type: 'Null', _value: null };

function typeError(message: string): GatewayError {
  return new GatewayError(Codes.TypeError, message);
}

function fromDurationError(err: unknown): unknown {
  return err instanceof DurationOverflow ? new GatewayError(err.code, err.message) : err;
}

export function floatValue(d: number): TypedValue {
  return { $type: 'Float', _value: javaDoubleToString(d) };
}

export function numberValue(n: NumberParts): TypedValue {
  return n.kind === 'int' ? { $type: 'Integer', _value: n.value.toString() } : floatValue(n.value);
}

function durationValue(d: Duration): TypedValue {
  return { $type: 'Duration', _value: formatDuration(d) };
}

function isNumber(v: TypedValue): v is TypedValue & { $type: 'Integer' | 'Float' } {
  return v.$type === 'Integer' || v.$type === 'Float';
}

/** ValueMath.incrementalAverage: a running mean that keeps NaN and infinities right */
export function incrementalAverage(running: number, next: number, weight: number): number {
  const result = running + (next - running) / weight;
  if (!Number.isNaN(result) && Number.isFinite(result)) return result;
  if (Number.isNaN(running) || Number.isNaN(next)) return Number.NaN;
  const nextInfinite = !Number.isFinite(next);
  const runningInfinite = !Number.isFinite(running);
  if (!nextInfinite && !runningInfinite) return running + (next - running) / weight;
  if (nextInfinite && !runningInfinite) return next;
  if (!nextInfinite) return running;
  if (next !== running) return Number.NaN; // opposite infinities
  return running;
}

/** NumericOrDurationAggregationExpression: numbers or durations, never both */
class NumbersOrDurations {
  kind: 'numbers' | 'durations' | undefined;

  constructor(private readonly name: string) {}

  classify(v: TypedValue): 'numbers' | 'durations' | undefined {
    if (v.$type === 'Null') return undefined;
    const kind = isNumber(v) ? 'numbers' : v.$type === 'Duration' ? 'durations' : undefined;
    if (kind === undefined) throw typeError(`${this.name}() can only handle numerical values, duration, or null; got a ${v.$type}.`);
    if (this.kind !== undefined && this.kind !== kind) throw typeError(`${this.name}() cannot mix number and duration.`);
    this.kind = kind;
    return kind;
  }
}

class Count implements Aggregator {
  private n = 0n;
  add(v: TypedValue): void {
    if (v.$type !== 'Null') this.n++;
  }
  result(): TypedValue {
    return { $type: 'Integer', _value: this.n.toString() };
  }
}

class Sum implements Aggregator {
  private readonly kind = new NumbersOrDurations('sum');
  private number: NumberParts = { kind: 'int', value: 0n };
  private duration: Duration = durationOf(0n, 0n, 0n, 0n);
  add(v: TypedValue): void {
    const kind = this.kind.classify(v);
    if (kind === 'numbers') this.number = addNumbers(this.number, numberOf(v as TypedValue & { $type: 'Integer' | 'Float' }));
    else if (kind === 'durations') {
      try {
        this.duration = addDurations(this.duration, durationValueOf(v as TypedValue & { $type: 'Duration' }));
      } catch (err) {
        throw fromDurationError(err);
      }
    }
  }
  result(): TypedValue {
    return this.kind.kind === 'durations' ? durationValue(this.duration) : numberValue(this.number);
  }
}

class Avg implements Aggregator {
  private readonly kind = new NumbersOrDurations('avg');
  private count = 0;
  private avg = 0;
  private months = 0;
  private days = 0;
  private seconds = 0;
  private nanos = 0;
  add(v: TypedValue): void {
    const kind = this.kind.classify(v);
    if (kind === 'numbers') {
      this.count++;
      this.avg = incrementalAverage(this.avg, toDouble(numberOf(v as TypedValue & { $type: 'Integer' })), this.count);
    } else if (kind === 'durations') {
      const d = durationValueOf(v as TypedValue & { $type: 'Duration' });
      this.count++;
      this.months += (Number(d.months) - this.months) / this.count;
      this.days += (Number(d.days) - this.days) / this.count;
      this.seconds += (Number(d.seconds) - this.seconds) / this.count;
      this.nanos += (d.nanos - this.nanos) / this.count;
    }
  }
  result(): TypedValue {
    if (this.kind.kind === undefined) return NULL;
    if (this.kind.kind === 'numbers') return floatValue(this.avg);
    try {
      return durationValue(normalize(approximate(this.months, this.days, this.seconds, this.nanos)));
    } catch (err) {
      throw fromDurationError(err);
    }
  }
}

class MinMax implements Aggregator {
  private best: TypedValue = NULL;
  constructor(private readonly keep: (cmp: number) => boolean) {}
  add(v: TypedValue): void {
    if (v.$type === 'Null') return;
    if (this.best.$type === 'Null' || this.keep(compareOrderBy(this.best, v))) this.best = v;
  }
  result(): TypedValue {
    return this.best;
  }
}

class Collect implements Aggregator {
  private readonly items: TypedValue[] = [];
  add(v: TypedValue): void {
    if (v.$type !== 'Null') this.items.push(v);
  }
  result(): TypedValue {
    return { $type: 'List', _value: [...this.items] };
  }
}

/** Java's (int) cast of a double: NaN is 0, out-of-range values saturate */
function javaInt(x: number): number {
  if (Number.isNaN(x)) return 0;
  if (x >= 2147483647) return 2147483647;
  if (x <= -2147483648) return -2147483648;
  return Math.trunc(x);
}

function requireNumber(name: string, v: TypedValue): TypedValue & { $type: 'Integer' | 'Float' } {
  if (!isNumber(v)) throw typeError(`${name}() can only handle numerical values or null; got a ${v.$type}.`);
  return v;
}

class StDev implements Aggregator {
  private count = 0;
  private mean = 0;
  private m2 = 0;
  constructor(private readonly population: boolean) {}
  add(v: TypedValue): void {
    if (v.$type === 'Null') return;
    const x = toDouble(numberOf(requireNumber(this.population ? 'stDevP' : 'stDev', v)));
    this.count++;
    const next = this.mean + (x - this.mean) / this.count;
    this.m2 += (x - this.mean) * (x - next);
    this.mean = next;
  }
  result(): TypedValue {
    if (this.count === 0) return NULL;
    if (this.count < 2) return floatValue(0);
    return floatValue(Math.sqrt(this.population ? this.m2 / this.count : this.m2 / (this.count - 1)));
  }
}

class Percentile implements Aggregator {
  private readonly values: { v: TypedValue & { $type: 'Integer' | 'Float' }; d: number }[] = [];
  private p = 0;
  constructor(
    private readonly discrete: boolean,
    private readonly percentile: TypedValue | undefined,
  ) {}
  private name(): string {
    return this.discrete ? 'percentileDisc' : 'percentileCont';
  }
  add(v: TypedValue): void {
    if (v.$type === 'Null') return;
    const n = requireNumber(this.name(), v);
    if (this.values.length === 0) this.p = this.checkedPercentile();
    this.values.push({ v: n, d: toDouble(numberOf(n)) });
  }
  /** OnePercentile.onFirstRow: read and check the percentile when the first number arrives */
  private checkedPercentile(): number {
    const p = this.percentile ?? NULL;
    if (!isNumber(p)) throw typeError(`The percentile of ${this.name()}() must be a number; got a ${p.$type}.`);
    const x = toDouble(numberOf(p));
    if (x < 0 || x > 1) throw new GatewayError(Codes.ArgumentError, `Invalid input '${javaDoubleToString(x)}' is not a valid argument, must be a number in the range 0.0 to 1.0`);
    return x;
  }
  result(): TypedValue {
    const count = this.values.length;
    if (count === 0) return NULL;
    const sorted = [...this.values].sort((a, b) => javaDoubleCompare(a.d, b.d));
    const p = this.p;
    if (p === 1.0 || count === 1) return sorted[count - 1]!.v;
    if (this.discrete) {
      const floatIdx = p * count;
      const toInt = javaInt(floatIdx);
      const idx = floatIdx !== toInt || toInt === 0 ? toInt : toInt - 1;
      return sorted[idx]!.v;
    }
    const floatIdx = p * (count - 1);
    const floor = javaInt(floatIdx);
    const ceil = javaInt(Math.ceil(floatIdx));
    if (ceil === floor || floor === count - 1) return sorted[floor]!.v;
    return floatValue(sorted[floor]!.d * (ceil - floatIdx) + sorted[ceil]!.d * (floatIdx - floor));
  }
}

class Distinct implements Aggregator {
  private readonly seen = new Set<string>();
  constructor(private readonly inner: Aggregator) {}
  add(v: TypedValue): void {
    const key = equivalenceKey(v);
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.inner.add(v);
  }
  result(): TypedValue {
    return this.inner.result();
  }
}

/**
 * A fresh aggregator for one group. `percentile` is the percentile argument of percentileDisc /
 * percentileCont (a number from 0.0 to 1.0).
 */
export function aggregator(fn: AggregateName, opts: { distinct: boolean; percentile?: TypedValue }): Aggregator {
  let inner: Aggregator;
  switch (fn) {
    case 'count':
      inner = new Count();
      break;
    case 'sum':
      inner = new Sum();
      break;
    case 'avg':
      inner = new Avg();
      break;
    case 'min':
      inner = new MinMax((c) => c > 0);
      break;
    case 'max':
      inner = new MinMax((c) => c < 0);
      break;
    case 'collect':
      inner = new Collect();
      break;
    case 'percentileDisc':
    case 'percentileCont':
      inner = new Percentile(fn === 'percentileDisc', opts.percentile);
      break;
    case 'stDev':
    case 'stDevP':
      inner = new StDev(fn === 'stDevP');
      break;
    default:
      throw new GatewayError(Codes.Internal, `Unknown aggregate ${String(fn)}.`);
  }
  return opts.distinct ? new Distinct(inner) : inner;
}

// ---------------------------------------------------------------------------------------------
// combiners of per-shard partial results

/** count: the sum of the partial counts */
export function combineCount(partials: TypedValue[]): TypedValue {
  let n = 0n;
  for (const p of partials) if (p.$type === 'Integer') n += BigInt(p._value);
  return { $type: 'Integer', _value: n.toString() };
}

/**
 * sum of per-part sums; see the header for what is exact. Neo4j's sum of no values is the
 * Integer 0, so a part without values would look like a number next to Duration sums: pass
 * `counts` (the parts' count(v)) to skip such parts; without counts an Integer 0 is neutral.
 */
export function combineSum(partials: TypedValue[], counts?: TypedValue[]): TypedValue {
  const kind = new NumbersOrDurations('sum');
  let total = 0n;
  let allIntegers = true;
  let floatTotal = 0;
  let duration: Duration = durationOf(0n, 0n, 0n, 0n);
  partials.forEach((p, i) => {
    const count = counts?.[i];
    if (count !== undefined ? count.$type === 'Integer' && count._value === '0' : p.$type === 'Integer' && p._value === '0') return;
    const k = kind.classify(p);
    if (k === 'durations') {
      try {
        duration = addDurations(duration, durationValueOf(p as TypedValue & { $type: 'Duration' }));
      } catch (err) {
        throw fromDurationError(err);
      }
    } else if (k === 'numbers') {
      const n = numberOf(p as TypedValue & { $type: 'Integer' | 'Float' });
      if (n.kind === 'int') total += n.value;
      else allIntegers = false;
      floatTotal += toDouble(n);
    }
  });
  if (kind.kind === 'durations') return durationValue(duration);
  if (allIntegers && total >= -9223372036854775808n && total <= 9223372036854775807n) return { $type: 'Integer', _value: total.toString() };
  return floatValue(floatTotal);
}

function pick(partials: TypedValue[], keep: (cmp: number) => boolean): TypedValue {
  const agg = new MinMax(keep);
  for (const p of partials) agg.add(p);
  return agg.result();
}

/** min of the partial minimums (nulls: shards without values) */
export function combineMin(partials: TypedValue[]): TypedValue {
  return pick(partials, (c) => c > 0);
}

/** max of the partial maximums */
export function combineMax(partials: TypedValue[]): TypedValue {
  return pick(partials, (c) => c < 0);
}

/** the double nearest to p/q (bigints), as a correctly rounded division */
function divideToDouble(p: bigint, q: bigint): number {
  const negative = p < 0n !== q < 0n;
  let a = p < 0n ? -p : p;
  const b = q < 0n ? -q : q;
  if (a === 0n) return 0;
  // scale so the quotient has 64+ significant bits, then let one rounding happen in Number()
  let shift = 0;
  while (a / b < 1n << 64n) {
    a <<= 64n;
    shift += 64;
  }
  const quotient = a / b;
  const sticky = a % b === 0n ? 0n : 1n;
  // the sticky bit keeps ties from rounding as if exact
  const value = Number((quotient << 1n) | sticky) / 2 / 2 ** shift;
  return negative ? -value : value;
}

/**
 * avg from per-part {avg, sum, count}: the single contributing part's own avg unchanged, else
 * the best reconstruction (see the header).
 */
export function combineAvg(parts: { avg: TypedValue; sum: TypedValue; count: TypedValue }[]): TypedValue {
  const contributing = parts.filter((p) => p.count.$type === 'Integer' && BigInt(p.count._value) > 0n);
  if (contributing.length === 0) return NULL;
  if (contributing.length === 1) return contributing[0]!.avg;
  const kind = new NumbersOrDurations('avg');
  let count = 0n;
  for (const p of contributing) {
    kind.classify(p.sum);
    count += BigInt((p.count as { _value: string })._value);
  }
  if (kind.kind === 'durations') {
    let months = 0n;
    let days = 0n;
    let seconds = 0n;
    let nanos = 0n;
    for (const p of contributing) {
      const d = durationValueOf(p.sum as TypedValue & { $type: 'Duration' });
      months += d.months;
      days += d.days;
      seconds += d.seconds;
      nanos += BigInt(d.nanos);
    }
    try {
      return durationValue(normalize(approximate(divideToDouble(months, count), divideToDouble(days, count), divideToDouble(seconds, count), divideToDouble(nanos, count))));
    } catch (err) {
      throw fromDurationError(err);
    }
  }
  const sums = contributing.map((p) => numberOf(p.sum as TypedValue & { $type: 'Integer' | 'Float' }));
  if (sums.every((s) => s.kind === 'int')) return floatValue(divideToDouble(sums.reduce((t, s) => t + (s.value as bigint), 0n), count));
  const total = sums.reduce((t, s) => t + toDouble(s), 0);
  return floatValue(total / Number(count));
}
