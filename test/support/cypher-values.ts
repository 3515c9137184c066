/**
 * fast-check generators of Cypher values of every type, written as Cypher expressions (literals,
 * `date({...})`, `point({...})`, ...; byte arrays, which have no literal, as parameters). Small
 * pools make ties and equal values likely, which is where Neo4j's rules differ from naive ones.
 * Neo4j evaluates them; its typed-JSON answer is then the canonical value (what a shard sends).
 */
import fc from 'fast-check';
import type { TypedValue } from '../../src/values/typed.js';
import { javaDoubleToString } from '../../src/values/java-double.js';

export type Spec = { lit: string } | { bytes: string } | { list: Spec[] } | { map: [string, Spec][] };

function render(spec: Spec, params: Record<string, TypedValue>): string {
  if ('lit' in spec) return spec.lit;
  if ('bytes' in spec) {
    const name = `b${Object.keys(params).length}`;
    params[name] = { $type: 'Base64', _value: spec.bytes };
    return `$${name}`;
  }
  if ('list' in spec) return `[${spec.list.map((s) => render(s, params)).join(', ')}]`;
  return `{${spec.map.map(([k, v]) => `\`${k.replace(/`/g, '``')}\`: ${render(v, params)}`).join(', ')}}`;
}

export function renderList(specs: Spec[]): { text: string; params: Record<string, TypedValue> } {
  const params: Record<string, TypedValue> = {};
  return { text: render({ list: specs }, params), params };
}

const lit = (s: string): Spec => ({ lit: s });

function floatLiteral(d: number): string {
  if (Number.isNaN(d)) return '(0.0/0.0)';
  if (d === Infinity) return '(1.0/0.0)';
  if (d === -Infinity) return '(-1.0/0.0)';
  return javaDoubleToString(d);
}

export const nullA = fc.constant(lit('null'));
export const boolA = fc.boolean().map((b) => lit(String(b)));
export const intA = fc
  .oneof(
    fc.integer({ min: -4, max: 4 }).map(String),
    fc.bigInt({ min: -9223372036854775808n, max: 9223372036854775807n }).map(String),
    fc.constantFrom(
      '9007199254740992',
      '9007199254740993',
      '-9007199254740993',
      '1152921504606846976',
      '1152921504606846977',
      '9223372036854775807',
      '-9223372036854775808',
      '127',
      '-128',
    ),
  )
  .map(lit);
export const floatA = fc
  .oneof(
    { weight: 2, arbitrary: fc.double() },
    { weight: 3, arbitrary: fc.constantFrom(0.5, -2.5, 1, 0, -0, 3, -4, Number.NaN, Infinity, -Infinity, 2 ** 53, 2 ** 60, 2 ** 63, -(2 ** 63), 1e23, 0.1) },
    { weight: 1, arbitrary: fc.constant(Number.NaN) },
  )
  .map((d) => lit(floatLiteral(d)));
export const stringA = fc
  .string({ unit: fc.constantFrom('a', 'b', 'B', 'é', '\uFF5A', '\uE000', '\u{1F600}', '\u{1F601}', '\u{10FFFF}', "'", '\\', ' '), maxLength: 4 })
  .map((s) => lit(`'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`));
export const dateA = fc
  .record({
    y: fc.oneof(fc.integer({ min: 1969, max: 1971 }), fc.integer({ min: -9999, max: 12000 }), fc.integer({ min: -999999999, max: 999999999 })),
    m: fc.integer({ min: 1, max: 12 }),
    d: fc.integer({ min: 1, max: 28 }),
  })
  .map(({ y, m, d }) => lit(`date({year: ${y}, month: ${m}, day: ${d}})`));
const timeFields = fc.record({
  h: fc.constantFrom(0, 1, 12, 23),
  mi: fc.constantFrom(0, 30, 59),
  s: fc.constantFrom(0, 1, 59),
  ns: fc.constantFrom(0, 1, 500000000, 123456789),
});
const offsetA = fc.constantFrom('Z', '+01:00', '-05:30', '+14:00', '-18:00', '+00:00', '+02:00');
/**
 * Named zones. Zones whose rules are one fixed offset (UTC, Etc/GMT-2, ...) are left out: Neo4j's
 * typed JSON writes them as offsets, so "...Z" from zone UTC and "...Z" from offset Z cannot be
 * told apart by anyone reading typed JSON, though Neo4j keeps them apart (see the oracle test).
 */
const zoneA = fc.constantFrom('Europe/Paris', 'America/New_York', 'Asia/Kolkata', 'Asia/Calcutta', 'Europe/London', 'Australia/Lord_Howe', 'Pacific/Chatham');
export const localTimeA = timeFields.map(({ h, mi, s, ns }) => lit(`localtime({hour: ${h}, minute: ${mi}, second: ${s}, nanosecond: ${ns}})`));
export const timeA = fc
  .tuple(timeFields, offsetA)
  .map(([{ h, mi, s, ns }, o]) => lit(`time({hour: ${h}, minute: ${mi}, second: ${s}, nanosecond: ${ns}, timezone: '${o}'})`));
export const localDateTimeA = fc
  .tuple(fc.integer({ min: 1969, max: 1971 }), fc.integer({ min: 1, max: 12 }), timeFields)
  .map(([y, m, { h, mi, s, ns }]) => lit(`localdatetime({year: ${y}, month: ${m}, day: 1, hour: ${h}, minute: ${mi}, second: ${s}, nanosecond: ${ns}})`));
// a few instants seen from many offsets and zones (equal instants), and the two 01:30 of a DST
// fall-back night in New York (same local time and zone, different offsets)
export const dateTimeA = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.constantFrom(0, 1600000000, 1604208600, 1604212200, -86400, 1600003600), fc.constantFrom(0, 1, 999999999), fc.oneof(offsetA, zoneA))
      .map(([e, ns, z]) => lit(`datetime({epochSeconds: ${e}, nanosecond: ${ns}, timezone: '${z}'})`)),
  },
  { weight: 1, arbitrary: fc.constantFrom(1604208600, 1604212200).map((e) => lit(`datetime({epochSeconds: ${e}, timezone: 'America/New_York'})`)) },
);
export const durationA = fc
  .record({
    months: fc.constantFrom(-13, -1, 0, 0, 1, 2, 12),
    days: fc.oneof(fc.constantFrom(0, 1, -1, 30, 31, 40, -30), fc.integer({ min: -45, max: 45 })),
    // 2629746 s is Neo4j's average month: P1M and PT2629746S have the same length
    seconds: fc.oneof(fc.constantFrom(0, 1, -1, -90, 86400, 2629746, -2629746, 3600), fc.integer({ min: -3000000, max: 3000000 })),
    ns: fc.constantFrom(0, 1, -1, 500000000, -500000000, 999999999),
  })
  .map(({ months, days, seconds, ns }) => lit(`duration({months: ${months}, days: ${days}, seconds: ${seconds}, nanoseconds: ${ns}})`))
  .chain((random) =>
    fc.oneof(
      { weight: 3, arbitrary: fc.constant(random) },
      // equal lengths, different fields: Neo4j orders them by months, then days, then seconds
      {
        weight: 1,
        arbitrary: fc
          .constantFrom(
            '{months: 1}',
            '{seconds: 2629746}',
            '{days: 30, seconds: 37746}',
            '{days: 1}',
            '{seconds: 86400}',
            '{hours: 24}',
            '{months: -1, days: 30, seconds: 37746}',
            '{seconds: 0}',
          )
          .map((m) => lit(`duration(${m})`)),
      },
    ),
  );
const coordA = fc.constantFrom('-0.0', '0.0', '1.0', '1.5', '-2.0', '45.0');
export const pointA = fc.oneof(
  fc.tuple(coordA, coordA).map(([x, y]) => lit(`point({x: ${x}, y: ${y}})`)),
  fc.tuple(coordA, coordA, coordA).map(([x, y, z]) => lit(`point({x: ${x}, y: ${y}, z: ${z}})`)),
  fc.tuple(coordA, coordA).map(([x, y]) => lit(`point({longitude: ${x}, latitude: ${y}})`)),
  fc.tuple(coordA, coordA, coordA).map(([x, y, z]) => lit(`point({longitude: ${x}, latitude: ${y}, height: ${z}})`)),
);
export const bytesA = fc.uint8Array({ maxLength: 3 }).map((b): Spec => ({ bytes: btoa(String.fromCharCode(...b)) }));

export const scalarA: fc.Arbitrary<Spec> = fc.oneof(
  nullA,
  boolA,
  intA,
  intA,
  floatA,
  floatA,
  stringA,
  stringA,
  dateA,
  localTimeA,
  timeA,
  localDateTimeA,
  dateTimeA,
  dateTimeA,
  durationA,
  pointA,
  bytesA,
);
// "Aa" and "BB" share a Java hashCode (Neo4j's Query API lists map keys in Java HashMap order)
const keyA = fc.constantFrom('a', 'b', 'B', 'é', '\uFF5A', '\u{1F600}', 'Aa', 'BB', 'AaAa', 'BBBB', 'name');
export const valueA: fc.Arbitrary<Spec> = fc.letrec<{ value: Spec }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalarA,
    fc.array(tie('value'), { maxLength: 3 }).map((list): Spec => ({ list })),
    fc.uniqueArray(fc.tuple(keyA, tie('value')), { maxLength: 6, selector: ([k]) => k }).map((map): Spec => ({ map })),
  ),
})).value;

// small pools make ties and equal values likely, which is where the rules differ
const mixedListA = fc.array(fc.oneof({ weight: 3, arbitrary: scalarA }, { weight: 1, arbitrary: valueA }), { maxLength: 30, size: 'large' });
/** many values of one or two types: comparisons within a type, where most rules live */
const typedListA = fc
  .tuple(
    fc.constantFrom(intA, floatA, stringA, dateA, timeA, localTimeA, localDateTimeA, dateTimeA, durationA, pointA, bytesA, valueA),
    fc.constantFrom(intA, floatA, bytesA, nullA, valueA),
  )
  .chain(([a, b]) => fc.array(fc.oneof({ weight: 4, arbitrary: a }, { weight: 1, arbitrary: b }), { minLength: 2, maxLength: 24, size: 'large' }));
export const anyListA = fc.oneof(mixedListA, typedListA);
export const numberListA = fc.array(fc.oneof({ weight: 4, arbitrary: fc.oneof(intA, floatA) }, { weight: 1, arbitrary: nullA }), {
  maxLength: 16,
  size: 'large',
});
export const smallIntListA = fc.array(
  fc.oneof(
    fc.integer({ min: -9, max: 9 }).map((i) => lit(String(i))),
    nullA,
  ),
  { maxLength: 12, size: 'large' },
);
export const durationListA = fc.array(fc.oneof({ weight: 4, arbitrary: durationA }, { weight: 1, arbitrary: nullA }), { maxLength: 10, size: 'large' });
