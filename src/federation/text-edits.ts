/**
 * Edits of a statement's text by [start, end) ranges, applied from the end so earlier offsets stay
 * valid. The planner expresses every rewrite this way, so the text it does not touch reaches
 * Neo4j exactly as the user wrote it.
 */

export type TextEdit = readonly [start: number, end: number, replacement: string];

/** `src.slice(from, to)` with the edits that fall inside that range applied */
export function applyEdits(src: string, edits: readonly TextEdit[], from = 0, to = src.length): string {
  const inside = edits.filter(([s, e]) => s >= from && e <= to).sort((a, b) => b[0] - a[0] || b[1] - a[1]);
  let out = src.slice(from, to);
  for (const [s, e, r] of inside) out = out.slice(0, s - from) + r + out.slice(e - from);
  return out;
}

/** the same characters replaced by spaces (newlines kept): positions in Neo4j's messages stay right */
export function spaces(text: string): string {
  return text.replace(/[^\n]/g, ' ');
}

/** a Cypher identifier, backticked when it needs to be */
export function ident(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : `\`${name.replace(/`/g, '``')}\``;
}
