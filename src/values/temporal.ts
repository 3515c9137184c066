/**
 * Neo4j's temporal values (Date, LocalTime, Time, LocalDateTime, OffsetDateTime, ZonedDateTime) read
 * from their typed-JSON text into the fields Neo4j 5.26 orders and compares them by
 * (`org.neo4j.values.storable.*Value.unsafeCompareTo` / `equals`):
 *
 * - Date, LocalTime, LocalDateTime: by their fields.
 * - Time: by the time of day in UTC, `(local nanos - offset)`, not wrapped to one day, then by
 *   offset; equal only with the same local time and the same offset.
 * - OffsetDateTime / ZonedDateTime (one type in Neo4j, DateTime): by instant, then nanosecond, then
 *   offset seconds, then offsets before named zones, then zone names (Neo4j maps a few renamed
 *   zone names to their new names, but the JDK it runs on no longer accepts the old ones);
 *   equal only with the same local date-time and the same offset, or the same named zone. So
 *   12:00Z and 13:00+01:00 sort next to each other but are different DISTINCT values.
 *
 * Must never: guess a zone's offset (the text always carries the offset Neo4j printed), or
 * depend on a time-zone database (Intl), so results do not vary with the runtime's tzdata.
 */

export interface LocalDateParts {
  /** days since 1970-01-01, proleptic Gregorian */
  epochDay: number;
}

export interface TimeParts {
  /** nanoseconds since midnight, local */
  nanoOfDay: number;
}

export interface DateTimeParts {
  epochDay: number;
  nanoOfDay: number;
  offsetSeconds: number;
  /** the named zone, absent for an offset */
  zone: string | undefined;
}

const DATE_RE = /^([+-]?\d{4,9})-(\d{2})-(\d{2})$/;
const TIME_RE = /^(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?$/;
const OFFSET_RE = /^(?:Z|([+-])(\d{2})(?::?(\d{2})(?::?(\d{2}))?)?)$/;

/** days from 1970-01-01 to y-m-d (proleptic Gregorian; Howard Hinnant's days_from_civil) */
export function epochDayOf(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const mp = (m + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function invalid(type: string, text: string): Error {
  return new TypeError(`Not a ${type} value as Neo4j writes it: ${JSON.stringify(text)}.`);
}

export function parseDate(text: string, type = 'Date'): LocalDateParts {
  const m = DATE_RE.exec(text);
  if (!m) throw invalid(type, text);
  return { epochDay: epochDayOf(Number(m[1]), Number(m[2]), Number(m[3])) };
}

export function parseLocalTime(text: string, type = 'LocalTime'): TimeParts {
  const m = TIME_RE.exec(text);
  if (!m) throw invalid(type, text);
  const seconds = Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3] ?? 0);
  const nanos = m[4] === undefined ? 0 : Number(m[4].padEnd(9, '0'));
  return { nanoOfDay: seconds * 1e9 + nanos };
}

function parseOffset(text: string, type: string): number {
  const m = OFFSET_RE.exec(text);
  if (!m) throw invalid(type, text);
  if (m[1] === undefined) return 0;
  const seconds = Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
  return m[1] === '-' ? -seconds : seconds;
}

/** index where a time's offset starts ("Z", "+", "-"), or -1 */
function offsetStart(text: string): number {
  for (let i = text.length - 1; i > 0; i--) {
    const c = text[i];
    if (c === 'Z' || c === '+' || c === '-') return i;
  }
  return -1;
}

export function parseTime(text: string): TimeParts & { offsetSeconds: number } {
  const i = offsetStart(text);
  if (i < 0) throw invalid('Time', text);
  return { ...parseLocalTime(text.slice(0, i), 'Time'), offsetSeconds: parseOffset(text.slice(i), 'Time') };
}

export function parseLocalDateTime(text: string, type = 'LocalDateTime'): LocalDateParts & TimeParts {
  const t = text.indexOf('T');
  if (t < 0) throw invalid(type, text);
  return { ...parseDate(text.slice(0, t), type), ...parseLocalTime(text.slice(t + 1), type) };
}

/** OffsetDateTime "...+01:00" or ZonedDateTime "...+01:00[Europe/Paris]" */
export function parseDateTime(text: string, type: string): DateTimeParts {
  let body = text;
  let zone: string | undefined;
  const z = text.indexOf('[');
  if (z >= 0) {
    if (!text.endsWith(']')) throw invalid(type, text);
    zone = text.slice(z + 1, -1);
    body = text.slice(0, z);
  }
  const t = body.indexOf('T');
  if (t < 0) throw invalid(type, text);
  const timeAndOffset = body.slice(t + 1);
  const i = offsetStart(timeAndOffset);
  if (i < 0) throw invalid(type, text);
  return {
    ...parseDate(body.slice(0, t), type),
    ...parseLocalTime(timeAndOffset.slice(0, i), type),
    offsetSeconds: parseOffset(timeAndOffset.slice(i), type),
    zone,
  };
}

function cmp(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** TimeValue.unsafeCompareTo: UTC time of day (not wrapped), then offset */
export function compareTimes(a: TimeParts & { offsetSeconds: number }, b: TimeParts & { offsetSeconds: number }): number {
  const ua = a.nanoOfDay - a.offsetSeconds * 1e9;
  const ub = b.nanoOfDay - b.offsetSeconds * 1e9;
  return cmp(ua, ub) || cmp(a.offsetSeconds, b.offsetSeconds);
}

/** DateTimeValue.unsafeCompareTo */
export function compareDateTimes(a: DateTimeParts, b: DateTimeParts): number {
  // instant as (day, second of day) after removing the offset; kept apart so years in the
  // millions stay exact in doubles
  const sa = Math.floor(a.nanoOfDay / 1e9) - a.offsetSeconds;
  const sb = Math.floor(b.nanoOfDay / 1e9) - b.offsetSeconds;
  const da = a.epochDay + Math.floor(sa / 86400);
  const db = b.epochDay + Math.floor(sb / 86400);
  const c =
    cmp(da, db) ||
    cmp(((sa % 86400) + 86400) % 86400, ((sb % 86400) + 86400) % 86400) ||
    cmp(a.nanoOfDay % 1e9, b.nanoOfDay % 1e9) ||
    cmp(a.offsetSeconds, b.offsetSeconds);
  if (c !== 0) return c;
  if (a.zone === undefined || b.zone === undefined) return a.zone === b.zone ? 0 : a.zone === undefined ? -1 : 1;
  return a.zone < b.zone ? -1 : a.zone > b.zone ? 1 : 0;
}
