/**
 * Exact numbers in plain-JSON parameters, as Neo4j's Query API reads them: a number written with
 * a fraction or an exponent is a Float even when it is integral (`1.0`, `1e2`, `-0.0`), and an
 * integer keeps every digit (`9007199254740993`), which JSON.parse cannot tell or keep. Before
 * parsing, such number literals are rewritten as strings carrying a random marker that no client
 * can guess (so no string a client sends can turn into a number), and turned back into typed
 * values after. Bodies without such numbers (the common case) are parsed untouched.
 */
import { Codes, GatewayError } from '../errors/index.js';
import type { TypedValue } from './typed.js';
import { formatFloat } from './format.js';

const LONG_MIN = -9223372036854775808n;
const LONG_MAX = 9223372036854775807n;

/** integers JSON.parse keeps exactly: at most 15 digits */
const SAFE_DIGITS = 15;

function randomMarker(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `n4gw-num-${[...bytes].map((b) => b.toString(16).padStart(2, '0')).join('')}:`;
}

/** `text` with every number JSON.parse would not carry exactly replaced by a marked string; undefined: nothing to protect */
export function protectNumbers(text: string): { text: string; marker: string } | undefined {
  let out: string[] | undefined;
  let last = 0;
  let marker = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) {
      inString = true;
      continue;
    }
    if (c !== 0x2d && (c < 0x30 || c > 0x39)) continue;
    // a number token: -?digits[.digits][(e|E)[+-]digits]
    let j = i + (c === 0x2d ? 1 : 0);
    const intStart = j;
    while (j < text.length && text.charCodeAt(j) >= 0x30 && text.charCodeAt(j) <= 0x39) j++;
    const digits = j - intStart;
    let exact = digits <= SAFE_DIGITS;
    if (text[j] === '.' || text[j] === 'e' || text[j] === 'E') {
      exact = false;
      while (j < text.length && /[0-9.eE+-]/.test(text[j]!)) j++;
    }
    if (c === 0x2d && text.slice(i, j) === '-0') exact = false;
    if (!exact && digits > 0) {
      out ??= [];
      marker ||= randomMarker();
      out.push(text.slice(last, i), `"${marker}${text.slice(i, j)}"`);
      last = j;
    }
    i = j - 1;
  }
  if (!out) return undefined;
  out.push(text.slice(last));
  return { text: out.join(''), marker };
}

/** a marked number back as the typed value Neo4j's Query API would make of it */
function markedNumber(lexeme: string): TypedValue {
  if (/[.eE]/.test(lexeme) || lexeme === '-0') return { $type: 'Float', _value: formatFloat(Number(lexeme)) };
  const n = BigInt(lexeme);
  if (n < LONG_MIN || n > LONG_MAX) {
    throw new GatewayError(Codes.RequestInvalid, `Parameter value ${lexeme} is outside the range of a 64-bit integer.`);
  }
  return { $type: 'Integer', _value: n.toString() };
}

/** a parsed top-level field that may be a marked number, as a JavaScript number */
export function plainNumber(v: unknown, marker: string | undefined): unknown {
  return marker !== undefined && typeof v === 'string' && v.startsWith(marker) ? Number(v.slice(marker.length)) : v;
}

/** Plain JSON parameter -> typed value (numbers: written integral -> Integer, else Float; marked numbers exactly). */
export function typedFromPlain(v: unknown, marker?: string): TypedValue {
  if (v === null || v === undefined) return { $type: 'Null', _value: null };
  switch (typeof v) {
    case 'boolean':
      return { $type: 'Boolean', _value: v };
    case 'string':
      if (marker !== undefined && v.startsWith(marker)) return markedNumber(v.slice(marker.length));
      return { $type: 'String', _value: v };
    case 'number':
      if (Number.isInteger(v) && Number.isSafeInteger(v)) return { $type: 'Integer', _value: String(v) };
      return { $type: 'Float', _value: formatFloat(v) };
    case 'object':
      if (Array.isArray(v)) return { $type: 'List', _value: v.map((x) => typedFromPlain(x, marker)) };
      return { $type: 'Map', _value: Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, typedFromPlain(x, marker)])) };
    default:
      throw new GatewayError(Codes.RequestInvalidFormat, `Unsupported parameter value of type ${typeof v}.`);
  }
}
