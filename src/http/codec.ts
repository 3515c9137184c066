/**
 * Query API wire format (Neo4j's `POST /db/{db}/query/v2`): request decoding and response
 * encoding, in plain JSON (`application/json`) and typed JSON (`application/vnd.neo4j.query`).
 */
import { Codes, GatewayError } from '../errors/index.js';
import { plainNumber, protectNumbers, typedFromPlain } from '../values/plain-json.js';
import { DEFAULT_MAX_JSON_DEPTH, assertJsonDepth } from './json-depth.js';
import type { AccessMode, Counters, Notification, RunResult } from '../transport/types.js';
import type { TypedValue } from '../values/typed.js';
import { jsonString, jsonText, plainJson, typedJson } from './json-text.js';

export const TYPED_JSON = 'application/vnd.neo4j.query';

export interface QueryRequest {
  statement: string;
  parameters: Record<string, TypedValue>;
  bookmarks: string[];
  accessMode: AccessMode;
  includeCounters: boolean;
  impersonatedUser?: string;
  maxExecutionTime?: number;
  /** gateway extension: shard-key value selecting shards of a composite */
  shardKey?: string;
}

const REQUEST_FIELDS = new Set(['statement', 'parameters', 'bookmarks', 'accessMode', 'includeCounters', 'impersonatedUser', 'maxExecutionTime', 'shardKey']);

/**
 * The response media type an Accept header asks for: typed JSON, plain JSON, or none we speak
 * (406). Neo4j's own default is plain JSON.
 */
export function negotiate(accept: string | null | undefined): 'typed' | 'plain' | undefined {
  if (!accept || accept.trim() === '') return 'plain';
  let best: { kind: 'typed' | 'plain'; q: number; order: number } | undefined;
  accept.split(',').forEach((part, order) => {
    const [media, ...params] = part.split(';').map((x) => x.trim().toLowerCase());
    const qp = params.find((p) => p.startsWith('q='));
    const q = qp ? Number(qp.slice(2)) : 1;
    if (!media || !(q > 0)) return;
    let kind: 'typed' | 'plain' | undefined;
    if (media === TYPED_JSON || media.startsWith(`${TYPED_JSON}.v1`)) kind = 'typed';
    else if (media === 'application/json' || media === 'application/*' || media === '*/*') kind = 'plain';
    if (kind && (!best || q > best.q)) best = { kind, q, order };
  });
  return best?.kind;
}

/** which media type a Content-Type or Accept names */
export function isTypedMedia(header: string | null | undefined): boolean {
  if (!header) return false;
  return header
    .split(',')
    .map((p) => p.split(';')[0]!.trim().toLowerCase())
    .some((m) => m === TYPED_JSON || m.startsWith(`${TYPED_JSON}.v1`));
}

function isJsonMedia(header: string): boolean {
  const m = header.split(';')[0]!.trim().toLowerCase();
  return m === 'application/json' || m === '' || m === '*/*' || m === 'text/plain';
}

export { typedFromPlain };

function invalid(message: string): GatewayError {
  return new GatewayError(Codes.RequestInvalid, message);
}

/** Decodes and validates a Query API request body. */
export function parseQueryRequest(
  text: string,
  contentType: string | null | undefined,
  opts: { requireStatement: boolean; maxJsonDepth?: number } = { requireStatement: true },
): QueryRequest {
  const ct = contentType ?? 'application/json';
  const typed = isTypedMedia(ct);
  if (!typed && !isJsonMedia(ct)) {
    throw new GatewayError(Codes.RequestInvalid, `Unsupported Media Type '${ct.split(';')[0]}'. Send application/json or ${TYPED_JSON}.`, { status: 415 });
  }
  let body: unknown;
  let marker: string | undefined;
  if (text.trim() === '' && !opts.requireStatement) body = {};
  else {
    // a body nested past the limit is refused before JSON.parse (deep values overflow the stack later)
    assertJsonDepth(text, opts.maxJsonDepth ?? DEFAULT_MAX_JSON_DEPTH);
    // plain JSON: numbers JSON.parse would not keep exactly travel as marked strings
    const protectedText = typed ? undefined : protectNumbers(text);
    marker = protectedText?.marker;
    try {
      body = JSON.parse(protectedText?.text ?? text);
    } catch (err) {
      throw new GatewayError(Codes.RequestInvalid, `Bad Request: the body is not valid JSON (${(err as Error).message}).`);
    }
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw invalid('Request body must be a JSON object.');
  const b = body as Record<string, unknown>;
  if (marker !== undefined) {
    b.maxExecutionTime = plainNumber(b.maxExecutionTime, marker);
    b.shardKey = plainNumber(b.shardKey, marker);
    b.includeCounters = plainNumber(b.includeCounters, marker);
  }
  const statement = b.statement;
  if (statement === undefined || statement === null) {
    if (opts.requireStatement) throw invalid('statement cannot be null or empty');
  } else if (typeof statement !== 'string') throw invalid('Field "statement" must be a string.');
  else if (opts.requireStatement && statement.trim() === '') throw invalid('statement cannot be null or empty');
  const unknown = Object.keys(b).filter((k) => !REQUEST_FIELDS.has(k));
  if (unknown.length > 0)
    throw invalid(`Bad Request: unknown field(s) ${unknown.map((k) => JSON.stringify(k)).join(', ')}. Known fields: ${[...REQUEST_FIELDS].join(', ')}.`);

  let parameters: Record<string, TypedValue> = {};
  if (b.parameters !== undefined && b.parameters !== null) {
    if (typeof b.parameters !== 'object' || Array.isArray(b.parameters)) throw invalid('Field "parameters" must be a JSON object.');
    const p = b.parameters as Record<string, unknown>;
    parameters = {};
    for (const [k, v] of Object.entries(p)) {
      if (typed) {
        if (v === null || typeof v !== 'object' || Array.isArray(v) || typeof (v as { $type?: unknown }).$type !== 'string' || !('_value' in v)) {
          throw new GatewayError(
            Codes.RequestInvalidFormat,
            `Parameter "${k}" is not a typed value ({"$type": ..., "_value": ...}), as ${TYPED_JSON} requires.`,
          );
        }
        parameters[k] = v as TypedValue;
      } else {
        parameters[k] = typedFromPlain(v, marker);
      }
    }
  }

  let bookmarks: string[] = [];
  if (b.bookmarks !== undefined && b.bookmarks !== null) {
    if (!Array.isArray(b.bookmarks) || !b.bookmarks.every((x) => typeof x === 'string')) throw invalid('Field "bookmarks" must be an array of strings.');
    bookmarks = b.bookmarks as string[];
  }

  let accessMode: AccessMode = 'WRITE';
  if (b.accessMode !== undefined && b.accessMode !== null) {
    if (typeof b.accessMode !== 'string' || !['READ', 'WRITE'].includes(b.accessMode.toUpperCase()))
      throw invalid('Field "accessMode" must be "READ" or "WRITE".');
    accessMode = b.accessMode.toUpperCase() as AccessMode;
  }

  if (b.includeCounters !== undefined && b.includeCounters !== null && typeof b.includeCounters !== 'boolean')
    throw invalid('Field "includeCounters" must be a boolean.');
  if (b.impersonatedUser !== undefined && b.impersonatedUser !== null && typeof b.impersonatedUser !== 'string')
    throw invalid('Field "impersonatedUser" must be a string.');
  let maxExecutionTime: number | undefined;
  if (b.maxExecutionTime !== undefined && b.maxExecutionTime !== null) {
    if (typeof b.maxExecutionTime !== 'number' || !Number.isInteger(b.maxExecutionTime) || b.maxExecutionTime <= 0)
      throw invalid('Field "maxExecutionTime" must be a positive integer (milliseconds).');
    maxExecutionTime = b.maxExecutionTime;
  }
  let shardKey: string | undefined;
  if (b.shardKey !== undefined && b.shardKey !== null) {
    if (typeof b.shardKey !== 'string' && typeof b.shardKey !== 'number') throw invalid('Field "shardKey" must be a string or a number.');
    shardKey = String(b.shardKey);
  }

  return {
    statement: typeof statement === 'string' ? statement : '',
    parameters,
    bookmarks,
    accessMode,
    includeCounters: b.includeCounters === true,
    ...(typeof b.impersonatedUser === 'string' ? { impersonatedUser: b.impersonatedUser } : {}),
    ...(maxExecutionTime !== undefined ? { maxExecutionTime } : {}),
    ...(shardKey !== undefined ? { shardKey } : {}),
  };
}

/**
 * Typed value -> the JavaScript value plain JSON (`application/json`) stands for, as Neo4j's
 * Query API renders it: Integers beyond 2^53 as bigints (exact), non-finite Floats as their text.
 * Response bodies are not built from this: encodeQueryResponse writes JSON text directly
 * (json-text.ts), which keeps big integers' digits and Java's float text.
 */
export function plainOf(v: TypedValue): unknown {
  switch (v.$type) {
    case 'Null':
      return null;
    case 'Boolean':
    case 'String':
      return v._value;
    case 'Integer': {
      const n = Number(v._value);
      return Number.isSafeInteger(n) ? n : BigInt(v._value);
    }
    case 'Float': {
      const f = Number(v._value);
      return Number.isFinite(f) ? f : v._value;
    }
    case 'List':
    case 'Path':
      return v._value.map(plainOf);
    case 'Map':
      return plainMap(v._value);
    case 'Node':
      return { elementId: v._value._element_id, labels: v._value._labels, properties: plainMap(v._value._properties) };
    case 'Relationship':
      return {
        elementId: v._value._element_id,
        startNodeElementId: v._value._start_node_element_id,
        endNodeElementId: v._value._end_node_element_id,
        type: v._value._type,
        properties: plainMap(v._value._properties),
      };
    case 'ZonedDateTime': {
      // plain JSON carries the offset only, as Neo4j renders it
      const i = v._value.indexOf('[');
      return i >= 0 ? v._value.slice(0, i) : v._value;
    }
    default:
      // temporal, duration, point, base64: their string form
      return v._value;
  }
}

function plainMap(m: Record<string, TypedValue>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(m)) out[k] = plainOf(m[k]!);
  return out;
}

export interface QueryResponseParts {
  result: Pick<RunResult, 'fields' | 'values' | 'notifications' | 'error'> & { counters?: Counters };
  /** null: no bookmarks field (statements inside an explicit transaction) */
  bookmarks: string[] | null;
  includeCounters: boolean;
  typed: boolean;
  /** extra top-level fields (gateway extensions, e.g. partial-result errors) */
  extra?: Record<string, unknown>;
}

/**
 * Encodes a Query API response body as JSON text, written directly (json-text.ts): values in
 * typed or plain JSON exactly as Neo4j writes them (big integers as digits, floats as Java prints
 * them), every string escaped as Jackson escapes it, members in Neo4j's order.
 */
export function encodeQueryResponse(parts: QueryResponseParts): string {
  const { result, typed } = parts;
  let values = '';
  for (let r = 0; r < result.values.length; r++) values += (r === 0 ? '' : ',') + encodeQueryRow(result.values[r]!, typed);
  return encodeQueryHead(result.fields) + values + encodeQueryTail(parts);
}

/**
 * The body in three pieces, for an answer streamed as rows arrive: the head (up to the first
 * row), each row (joined by commas), and the tail (after the last row: errors, or counters,
 * notifications and bookmarks, then the extra members). Head + rows + tail is exactly
 * encodeQueryResponse's body.
 */
export function encodeQueryHead(fields: readonly string[]): string {
  return `{"data":{"fields":${jsonText(fields)},"values":[`;
}

export function encodeQueryRow(row: readonly TypedValue[], typed: boolean): string {
  const write = typed ? typedJson : plainJson;
  let out = '[';
  for (let c = 0; c < row.length; c++) out += (c === 0 ? '' : ',') + write(row[c]!);
  return `${out}]`;
}

export function encodeQueryTail(parts: Omit<QueryResponseParts, 'result'> & { result: Omit<QueryResponseParts['result'], 'fields' | 'values'> }): string {
  const { result } = parts;
  const members: [string, unknown][] = [];
  if (result.error) {
    // failed after streaming began: rows so far plus the error, as Neo4j answers (status 202)
    members.push(['errors', [result.error]]);
  } else {
    if (parts.includeCounters && result.counters) members.push(['counters', result.counters]);
    if (result.notifications.length > 0) members.push(['notifications', result.notifications satisfies Notification[]]);
    if (parts.bookmarks !== null) members.push(['bookmarks', parts.bookmarks]);
  }
  // extra fields as Object.assign would add them: a known member keeps its place
  for (const [k, v] of Object.entries(parts.extra ?? {})) {
    const i = members.findIndex(([name]) => name === k);
    if (i >= 0) members[i] = [k, v];
    else members.push([k, v]);
  }
  let out = ']}';
  for (const [k, v] of members) {
    if (v === undefined) continue;
    out += `,${jsonString(k)}:${jsonText(v)}`;
  }
  return `${out}}`;
}
