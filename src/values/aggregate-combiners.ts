/**
 * Combiners of per-shard partial results (decomposed aggregation: each shard computed
 * count/sum/min/max/avg of its own rows, the gateway merges them), with the type rules of
 * Neo4j's own aggregating functions (aggregate.ts):
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
 *   order, so these are close (within a few ulps for numbers) but not guaranteed bit-exact; Float
 *   averages with magnitudes near the double range's limit (where Neo4j's running mean overflows
 *   or not by row order) are refused.
 *
 * Must never: raise an error Neo4j would not raise (a refusal where any answer would be a guess,
 * FederationNotSupported, is the gateway's own and allowed), or return a type Neo4j would not
 * return (Integer vs Float matters to clients).
 */
import { Codes, GatewayError } from '../errors/index.js';
import type { TypedValue } from './typed.js';
import { addDurations, approximate, durationOf, normalize, type Duration } from './duration.js';
import { durationValue, floatValue, fromDurationError, MinMax, NULL, NumbersOrDurations } from './aggregate.js';
import { toDouble } from './numbers.js';
import { durationValueOf, numberOf } from './read.js';

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
      return durationValue(
        normalize(approximate(divideToDouble(months, count), divideToDouble(days, count), divideToDouble(seconds, count), divideToDouble(nanos, count))),
      );
    } catch (err) {
      throw fromDurationError(err);
    }
  }
  const sums = contributing.map((p) => numberOf(p.sum as TypedValue & { $type: 'Integer' | 'Float' }));
  if (sums.every((s) => s.kind === 'int'))
    return floatValue(
      divideToDouble(
        sums.reduce((t, s) => t + (s.value as bigint), 0n),
        count,
      ),
    );
  const total = sums.reduce((t, s) => t + toDouble(s), 0);
  // Neo4j's running mean of Floats this close to the double range's limit overflows on the way
  // or not depending on the order it reads rows (Infinity in one order, a finite mean in another);
  // no order of the shards' rows is known here, so such an average is refused, never guessed
  const avgs = contributing.map((p) => (p.avg.$type === 'Float' || p.avg.$type === 'Integer' ? toDouble(numberOf(p.avg)) : NaN));
  const nearLimit = sums.some((s) => Math.abs(toDouble(s)) >= NEAR_DOUBLE_LIMIT) || avgs.some((a) => Math.abs(a) >= NEAR_DOUBLE_LIMIT);
  if (avgs.every(Number.isFinite) && (nearLimit || !Number.isFinite(total))) {
    throw new GatewayError(
      Codes.FederationNotSupported,
      'avg() of Float values near the limit of double precision (beyond about 1e301) depends on the order Neo4j reads rows, which shards do not share; compute it on one shard with USE, or scale the values.',
    );
  }
  return floatValue(total / Number(count));
}

/** magnitudes from which a running mean or sum of doubles can overflow on the way (2^1000, about 1.07e301) */
const NEAR_DOUBLE_LIMIT = 2 ** 1000;
