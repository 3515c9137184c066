/**
 * Neo4j 5.26's aggregating functions over typed-JSON values, fed one value per row in arrival
 * order, with Neo4j's own algorithms and result types (ports of the interpreted runtime's
 * `pipes.aggregation.*Function` and `ValueMath`). The combiners that merge per-shard partial
 * results of count, sum, min, max and avg build on them: aggregate-combiners.ts.
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

export const NULL: TypedValue = { $type: 'Null', _value: null };

function typeError(message: string): GatewayError {
  return new GatewayError(Codes.TypeError, message);
}

export function fromDurationError(err: unknown): unknown {
  return err instanceof DurationOverflow ? new GatewayError(err.code, err.message) : err;
}

export function floatValue(d: number): TypedValue {
  return { $type: 'Float', _value: javaDoubleToString(d) };
}

export function numberValue(n: NumberParts): TypedValue {
  return n.kind === 'int' ? { $type: 'Integer', _value: n.value.toString() } : floatValue(n.value);
}

export function durationValue(d: Duration): TypedValue {
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
export class NumbersOrDurations {
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

export class MinMax implements Aggregator {
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
    if (x < 0 || x > 1)
      throw new GatewayError(Codes.ArgumentError, `Invalid input '${javaDoubleToString(x)}' is not a valid argument, must be a number in the range 0.0 to 1.0`);
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
