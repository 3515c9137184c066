/**
 * Nesting depth of a GraphQL document, measured before it is parsed (limits.maxJsonDepth): the
 * parser, the validation rules and the executor all walk a document recursively, so a selection
 * or argument nested thousands deep would overflow the stack (a 500) instead of being refused.
 * One linear pass; "{", "(" and "[" count, except inside strings, block strings and comments.
 * It never validates: a malformed document is left to the parser and its own error.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const HASH = 0x23;
const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const OPENERS = new Set([0x7b, 0x28, 0x5b]); // { ( [
const CLOSERS = new Set([0x7d, 0x29, 0x5d]); // } ) ]

/** The deepest nesting of selections, arguments, lists and objects in `doc`, counting no further than `stopAbove + 1`. */
export function documentDepth(doc: string, stopAbove = Infinity): number {
  let depth = 0;
  let deepest = 0;
  const n = doc.length;
  for (let i = 0; i < n; i++) {
    const ch = doc.charCodeAt(i);
    if (ch === HASH) {
      // a comment runs to the end of the line
      while (i + 1 < n && doc.charCodeAt(i + 1) !== NEWLINE && doc.charCodeAt(i + 1) !== CARRIAGE_RETURN) i++;
    } else if (ch === QUOTE) {
      if (doc.startsWith('"""', i)) {
        // a block string ends at the first """ not escaped as \"""
        let j = i + 3;
        for (;;) {
          j = doc.indexOf('"""', j);
          if (j < 0) return deepest; // unterminated: the parser reports it
          if (doc.charCodeAt(j - 1) !== BACKSLASH) break;
          j += 3;
        }
        i = j + 2;
      } else {
        // a string ends at the first quote not escaped, or at the end of the line (a syntax error)
        let j = i + 1;
        while (j < n) {
          const c = doc.charCodeAt(j);
          if (c === BACKSLASH) j += 2;
          else if (c === QUOTE || c === NEWLINE || c === CARRIAGE_RETURN) break;
          else j++;
        }
        i = j;
      }
    } else if (OPENERS.has(ch)) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > stopAbove) return deepest;
      }
    } else if (CLOSERS.has(ch)) {
      depth--;
    }
  }
  return deepest;
}
