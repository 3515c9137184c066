/**
 * fast-check generators of typed-JSON values (`TypedValue`) of every type, well formed as Neo4j
 * writes them, for the pure tests of src/values/ (no Neo4j: the integration tests use values
 * Neo4j itself wrote). Small pools make ties and equal values likely.
 */
import fc from 'fast-check';
import type { TypedValue } from '../../src/values/typed.js';
import { javaDoubleToString } from '../../src/values/java-double.js';

const pad = (n: number, w: number) => String(n).padStart(w, '0');
const t = (type: TypedValue['$type'], v: string) => ({ $type: type, _value: v }) as TypedValue;

const intA = fc
  .oneof(
    fc.integer({ min: -3, max: 3 }).map(String),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String),
    fc.constantFrom('9007199254740993', '1152921504606846977'),
  )
  .map((v) => t('Integer', v));
const floatA = fc.oneof(fc.double(), fc.constantFrom(0, -0, 1, 0.5, Number.NaN, 2 ** 53, 2 ** 60, 2 ** 63)).map((d) => t('Float', javaDoubleToString(d)));
const stringA = fc.string({ unit: fc.constantFrom('a', 'b', 'é', '\uFF5A', '\u{1F600}'), maxLength: 3 }).map((s) => t('String', s));
const dateA = fc
  .tuple(fc.integer({ min: -2000, max: 12000 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 28 }))
  .map(([y, m, d]) => `${y > 9999 ? '+' : y < 0 ? '-' : ''}${pad(Math.abs(y), 4)}-${pad(m, 2)}-${pad(d, 2)}`);
const timeA = fc
  .tuple(fc.constantFrom(0, 1, 12, 23), fc.constantFrom(0, 30), fc.constantFrom('', '.5', '.000000001'))
  .map(([h, m, f]) => `${pad(h, 2)}:${pad(m, 2)}:00${f}`);
const offsetA = fc.constantFrom('Z', '+01:00', '-05:30', '+14:00');
const zoneA = fc.constantFrom('', '[Europe/Paris]', '[Asia/Kolkata]');
const durationA = fc
  .constantFrom('PT0S', 'P1D', 'PT24H', 'P1M', 'P30DT10H29M6S', 'PT-1.5S', 'P-1Y-2M3DT-1M-29.999999995S', 'P14M')
  .map((v) => t('Duration', v));
const pointA = fc
  .constantFrom(
    'SRID=7203;POINT (1.0 2.0)',
    'SRID=7203;POINT (-0.0 2.0)',
    'SRID=7203;POINT (0.0 2.0)',
    'SRID=4326;POINT (1.0 2.0)',
    'SRID=9157;POINT Z (1.0 2.0 3.0)',
    'SRID=4979;POINT Z (1.0 2.0 3.0)',
  )
  .map((v) => t('Point', v));
const bytesA = fc.uint8Array({ maxLength: 3 }).map((b) => t('Base64', btoa(String.fromCharCode(...b))));
const idA = fc.integer({ min: 0, max: 4 }).map((i) => `4:db:${i}`);
const nodeA = idA.map((id): TypedValue => ({ $type: 'Node', _value: { _element_id: id, _labels: ['L'], _properties: {} } }));
const relA = idA.map((id): TypedValue => ({
  $type: 'Relationship',
  _value: { _element_id: id.replace('4:', '5:'), _start_node_element_id: '4:db:0', _end_node_element_id: '4:db:1', _type: 'R', _properties: {} },
}));
const pathA = fc
  .tuple(nodeA, fc.array(fc.tuple(relA, nodeA), { maxLength: 2 }))
  .map(([start, steps]): TypedValue => ({ $type: 'Path', _value: [start, ...steps.flat()] }));

export const scalarTypedA: fc.Arbitrary<TypedValue> = fc.oneof(
  fc.constant<TypedValue>({ $type: 'Null', _value: null }),
  fc.boolean().map((b): TypedValue => ({ $type: 'Boolean', _value: b })),
  intA,
  intA,
  floatA,
  floatA,
  stringA,
  bytesA,
  durationA,
  pointA,
  nodeA,
  relA,
  pathA,
  dateA.map((d) => t('Date', d)),
  timeA.map((x) => t('LocalTime', x)),
  fc.tuple(timeA, offsetA).map(([x, o]) => t('Time', x + o)),
  fc.tuple(dateA, timeA).map(([d, x]) => t('LocalDateTime', `${d}T${x}`)),
  fc.tuple(dateA, timeA, offsetA, zoneA).map(([d, x, o, z]) => t(z ? 'ZonedDateTime' : 'OffsetDateTime', `${d}T${x}${o}${z}`)),
);

export const typedValueA: fc.Arbitrary<TypedValue> = fc.letrec<{ v: TypedValue }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    scalarTypedA,
    fc.array(tie('v'), { maxLength: 3 }).map((l): TypedValue => ({ $type: 'List', _value: l })),
    fc.dictionary(fc.constantFrom('a', 'b', '\u{1F600}', '\uFF5A'), tie('v'), { maxKeys: 3 }).map((m): TypedValue => ({ $type: 'Map', _value: m })),
  ),
})).v;
