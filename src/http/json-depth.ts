/**
 * JSON nesting depth, measured before JSON.parse (limits.maxJsonDepth): a body nested hundreds of
 * thousands deep parses fine, then overflows the stack of whatever walks it recursively. One
 * linear pass over the text, strings skipped (a "[" inside a string is not nesting). It never
 * parses or validates: a malformed body is left to JSON.parse and its own error.
 */
import { Codes, GatewayError } from '../errors/index.js';

/** the topology's default for limits.maxJsonDepth */
export const DEFAULT_MAX_JSON_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/** The deepest nesting of arrays and objects in `text`, counting no further than `stopAbove + 1`. */
export function jsonDepth(text: string, stopAbove = Infinity): number {
  let depth = 0;
  let deepest = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const ch = text.charCodeAt(i);
    if (ch === QUOTE) {
      // jump to the closing quote: the first one not escaped by an odd run of backslashes
      let j = i;
      for (;;) {
        j = text.indexOf('"', j + 1);
        if (j < 0) return deepest; // unterminated string: JSON.parse reports it
        let slashes = 0;
        while (text.charCodeAt(j - 1 - slashes) === BACKSLASH) slashes++;
        if (slashes % 2 === 0) break;
      }
      i = j;
    } else if (ch === OPEN_BRACKET || ch === OPEN_BRACE) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > stopAbove) return deepest;
      }
    } else if (ch === CLOSE_BRACKET || ch === CLOSE_BRACE) {
      depth--;
    }
  }
  return deepest;
}

/** Throws 400 Neo.ClientError.Request.Invalid when `text` nests arrays and objects deeper than `max`. */
export function assertJsonDepth(text: string, max: number): void {
  if (jsonDepth(text, max) > max) {
    throw new GatewayError(Codes.RequestInvalid, `Bad Request: the body nests arrays and objects deeper than ${max} levels (limits.maxJsonDepth).`, {
      refused: { limit: 'json_depth' },
    });
  }
}
