/**
 * A read-only view of one statement's ANTLR parse tree: rule names, source text and the small
 * navigation the analysis needs. ANTLR counts offsets in code points; JavaScript strings in UTF-16
 * code units: every offset this view hands out is a UTF-16 index into the statement, so slices
 * and edits stay correct when the statement holds characters outside the Basic Multilingual Plane.
 * It never changes the tree or the text.
 */
import type { ParseNode } from './grammar.js';

/** code-point offset -> UTF-16 offset, built only for statements that hold surrogate pairs */
function codePointMap(src: string): Int32Array | undefined {
  if (!/[\uD800-\uDFFF]/.test(src)) return undefined;
  const map = new Int32Array(src.length + 1);
  let cp = 0;
  for (let i = 0; i < src.length; i++) {
    map[cp++] = i;
    const c = src.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < src.length) {
      const d = src.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
  }
  map[cp] = src.length;
  return map.subarray(0, cp + 1);
}

export class Tree {
  private readonly cp: Int32Array | undefined;

  constructor(
    readonly src: string,
    readonly ruleNames: readonly string[],
  ) {
    this.cp = codePointMap(src);
  }

  private utf16(codePointOffset: number): number {
    if (!this.cp) return codePointOffset;
    return this.cp[Math.max(0, Math.min(codePointOffset, this.cp.length - 1))]!;
  }

  rule(n: ParseNode | undefined): string | undefined {
    return n === undefined || n.ruleIndex === undefined ? undefined : this.ruleNames[n.ruleIndex];
  }

  is(n: ParseNode | undefined, name: string): boolean {
    return this.rule(n) === name;
  }

  /** [start, end) of a node in the statement (UTF-16 offsets); empty for empty rules */
  range(n: ParseNode): [number, number] {
    if (n.symbol) return [this.utf16(n.symbol.start), this.utf16(n.symbol.stop + 1)];
    const start = n.start?.start ?? 0;
    const stop = n.stop ? n.stop.stop : start - 1;
    const s = this.utf16(start);
    return [s, Math.max(s, this.utf16(stop + 1))];
  }

  start(n: ParseNode): number {
    return this.range(n)[0];
  }

  end(n: ParseNode): number {
    return this.range(n)[1];
  }

  text(n: ParseNode): string {
    const [s, e] = this.range(n);
    return this.src.slice(s, e);
  }

  kids(n: ParseNode, name?: string): ParseNode[] {
    const all = n.children ?? [];
    return name === undefined ? all : all.filter((c) => this.rule(c) === name);
  }

  kid(n: ParseNode, name: string): ParseNode | undefined {
    for (const c of n.children ?? []) if (this.rule(c) === name) return c;
    return undefined;
  }

  /** the terminal tokens directly under n, upper-cased */
  tokens(n: ParseNode): string[] {
    return (n.children ?? []).filter((c) => c.ruleIndex === undefined).map((c) => c.getText().toUpperCase());
  }

  hasToken(n: ParseNode, token: string): boolean {
    return (n.children ?? []).some((c) => c.ruleIndex === undefined && c.getText().toUpperCase() === token);
  }

  /** every descendant (not n itself) with rule `name`, in source order */
  find(n: ParseNode, name: string, out: ParseNode[] = []): ParseNode[] {
    for (const c of n.children ?? []) {
      if (this.rule(c) === name) out.push(c);
      this.find(c, name, out);
    }
    return out;
  }

  /** every descendant whose rule is in `names`, not looking inside rules in `stopAt` */
  findAny(n: ParseNode, names: ReadonlySet<string>, stopAt: ReadonlySet<string> = EMPTY, out: ParseNode[] = []): ParseNode[] {
    for (const c of n.children ?? []) {
      const r = this.rule(c);
      if (r !== undefined && names.has(r)) out.push(c);
      if (r === undefined || !stopAt.has(r)) this.findAny(c, names, stopAt, out);
    }
    return out;
  }

  /** the single rule `name` an expression consists of, when it is nothing else (e.g. just a parameter) */
  only(n: ParseNode, name: string): ParseNode | undefined {
    let cur: ParseNode | undefined = n;
    while (cur) {
      if (this.rule(cur) === name) return cur;
      const kids: ParseNode[] = (cur.children ?? []).filter((c) => c.ruleIndex !== undefined || c.getText() !== '');
      if (kids.length !== 1) return undefined;
      cur = kids[0];
    }
    return undefined;
  }

  /** true when `inner` lies inside `outer` (or is it) */
  within(inner: ParseNode, outer: ParseNode): boolean {
    const [a, b] = this.range(inner);
    const [c, d] = this.range(outer);
    return a >= c && b <= d;
  }
}

const EMPTY: ReadonlySet<string> = new Set();

/** a symbolic name as Cypher reads it: backticks removed, doubled backticks undone */
export function unquote(name: string): string {
  const t = name.trim();
  return t.startsWith('`') && t.endsWith('`') && t.length >= 2 ? t.slice(1, -1).replace(/``/g, '`') : t;
}

/** a dotted name (function, procedure, graph) with each part unquoted, joined by "." */
export function dottedName(text: string): string {
  return nameParts(text).join('.');
}

/** the parts of a dotted name, each unquoted (a quoted part may itself contain dots) */
export function nameParts(text: string): string[] {
  const parts: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '`') {
      if (quoted && text[i + 1] === '`') {
        cur += '`';
        i++;
        continue;
      }
      quoted = !quoted;
      continue;
    }
    if (!quoted && ch === '.') {
      parts.push(cur.trim());
      cur = '';
      continue;
    }
    if (!quoted && /\s/.test(ch)) continue;
    cur += ch;
  }
  parts.push(cur.trim());
  return parts;
}
