/**
 * A small YAML reader for the files this repository ships (Prometheus rules and configuration,
 * the compose file, Grafana provisioning): block mappings and sequences, flow collections, plain
 * and quoted scalars, literal and folded block scalars, anchors, aliases and `<<` merge keys.
 *
 * It must never guess: anything outside that subset (tags, multi-line plain scalars, complex keys,
 * several documents) is an error, and so is a plain scalar that YAML 1.1 readers (Prometheus' and
 * Grafana's go-yaml v2) and YAML 1.2 readers (compose's go-yaml v3) would read differently
 * (`yes`, `off`, `1:30`, `0755`): quote those. Scalars resolve with YAML 1.2's core schema.
 */

export class YamlError extends Error {
  constructor(message: string, line: number) {
    super(`line ${line + 1}: ${message}`);
    this.name = 'YamlError';
  }
}

export type YamlValue = null | boolean | number | string | YamlValue[] | { [key: string]: YamlValue };

/** Parses one YAML document; throws YamlError naming the line of the first construct it does not accept. */
export function parseYaml(text: string): YamlValue {
  return new Reader(text).document();
}

const BOOLEAN_11 = /^(y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$/;
const SEXAGESIMAL_11 = /^[-+]?\d+(:[0-5]?\d)+(\.\d*)?$/;
const OCTAL_11 = /^[-+]?0\d+$/;

/** a plain scalar resolved with the YAML 1.2 core schema; throws on scalars YAML 1.1 reads otherwise */
function resolvePlain(s: string, line: number): YamlValue {
  if (BOOLEAN_11.test(s) || SEXAGESIMAL_11.test(s) || OCTAL_11.test(s)) {
    throw new YamlError(`plain scalar ${JSON.stringify(s)} means different things to YAML 1.1 and 1.2 readers: quote it`, line);
  }
  if (/^(null|Null|NULL|~)$/.test(s)) return null;
  if (/^(true|True|TRUE)$/.test(s)) return true;
  if (/^(false|False|FALSE)$/.test(s)) return false;
  if (/^[-+]?\d+$/.test(s)) return Number.parseInt(s, 10);
  if (/^0o[0-7]+$/.test(s)) return Number.parseInt(s.slice(2), 8);
  if (/^0x[0-9a-fA-F]+$/.test(s)) return Number.parseInt(s.slice(2), 16);
  if (/^[-+]?(\.\d+|\d+(\.\d*)?)([eE][-+]?\d+)?$/.test(s)) return Number.parseFloat(s);
  if (/^[-+]?\.(inf|Inf|INF)$/.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
  if (/^\.(nan|NaN|NAN)$/.test(s)) return NaN;
  return s;
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\', '/': '/', '0': '\0', ' ': ' ', e: '\x1b', b: '\b' };

interface Line {
  no: number;
  indent: number;
  /** the line without its indentation and without a trailing comment */
  text: string;
  raw: string;
}

class Reader {
  private readonly lines: string[];
  private pos = 0;
  private readonly anchors = new Map<string, YamlValue>();

  constructor(text: string) {
    if (text.includes('\t')) {
      const line = text.slice(0, text.indexOf('\t')).split('\n').length - 1;
      throw new YamlError('tab character: indent with spaces only', line);
    }
    this.lines = text.replace(/\r\n/g, '\n').split('\n');
  }

  document(): YamlValue {
    let line = this.peek();
    if (line && line.text === '---') {
      this.pos = line.no + 1;
      line = this.peek();
    }
    if (!line) return null;
    const value = this.node(line.indent);
    const rest = this.peek();
    if (rest)
      throw new YamlError(rest.text === '---' || rest.text === '...' ? 'only one document is supported' : 'unexpected content (wrong indentation?)', rest.no);
    return value;
  }

  /** the next line with content (comments and blank lines skipped), without consuming it */
  private peek(): Line | undefined {
    for (let i = this.pos; i < this.lines.length; i++) {
      const raw = this.lines[i]!;
      const text = stripComment(raw.trimStart()).trimEnd();
      if (text === '') continue;
      return { no: i, indent: raw.length - raw.trimStart().length, text, raw };
    }
    return undefined;
  }

  private node(indent: number): YamlValue {
    const line = this.peek();
    if (!line) return null;
    if (line.indent !== indent) throw new YamlError(`expected indentation ${indent}, found ${line.indent}`, line.no);
    if (isSequenceItem(line.text)) return this.sequence(indent);
    if (keyEnd(line.text, line.no) >= 0) return this.mapping(indent);
    this.pos = line.no + 1;
    return this.inline(line.text, line);
  }

  private mapping(indent: number): YamlValue {
    const out: Record<string, YamlValue> = {};
    const explicit = new Set<string>();
    const merged: Record<string, YamlValue>[] = [];
    for (let line = this.peek(); line && line.indent === indent && !isSequenceItem(line.text); line = this.peek()) {
      const end = keyEnd(line.text, line.no);
      if (end < 0) throw new YamlError(`expected "key: value", found ${JSON.stringify(line.text)}`, line.no);
      const key = parseKey(line.text.slice(0, end), line.no);
      if (explicit.has(key)) throw new YamlError(`duplicate key ${JSON.stringify(key)}`, line.no);
      explicit.add(key);
      this.pos = line.no + 1;
      const value = this.valueAfter(line.text.slice(end + 1).trim(), line, indent);
      if (key === '<<') {
        const sources = Array.isArray(value) ? value : [value];
        for (const s of sources) {
          if (s === null || typeof s !== 'object' || Array.isArray(s)) throw new YamlError('a merge key (<<) takes a mapping or a list of mappings', line.no);
          merged.push(s);
        }
        continue;
      }
      out[key] = value;
    }
    // explicit keys win over merged ones; earlier merge sources win over later ones
    for (const source of merged) for (const [k, v] of Object.entries(source)) if (!(k in out)) out[k] = v;
    const next = this.peek();
    if (next && next.indent > indent) throw new YamlError('unexpected indentation', next.no);
    return out;
  }

  private sequence(indent: number): YamlValue[] {
    const out: YamlValue[] = [];
    for (let line = this.peek(); line && line.indent === indent && isSequenceItem(line.text); line = this.peek()) {
      const rest = line.text.slice(1).trimStart();
      const restIndent = indent + 1 + (line.text.length - 1 - rest.length);
      if (rest === '') {
        this.pos = line.no + 1;
        const next = this.peek();
        out.push(next && next.indent > indent ? this.node(next.indent) : null);
      } else if (isSequenceItem(rest) || (keyEnd(rest, line.no) >= 0 && !/^[[{"'&*]/.test(rest))) {
        // "- key: value" or "- - item": the item is a block node starting at the column after "- "
        this.lines[line.no] = ' '.repeat(restIndent) + line.raw.trimStart().slice(line.text.length - rest.length);
        out.push(this.node(restIndent));
      } else {
        this.pos = line.no + 1;
        out.push(this.valueAfter(rest, line, indent));
      }
    }
    const next = this.peek();
    if (next && next.indent > indent) throw new YamlError('unexpected indentation', next.no);
    return out;
  }

  /** the value after "key:" or "- ": inline, a block scalar, or a nested block on the following lines */
  private valueAfter(rest: string, line: Line, parentIndent: number): YamlValue {
    let anchor: string | undefined;
    const a = /^&([^\s[\]{},]+)\s*/.exec(rest);
    if (a) {
      anchor = a[1]!;
      rest = rest.slice(a[0].length);
    }
    let value: YamlValue;
    if (rest === '') {
      const next = this.peek();
      if (next && next.indent > parentIndent) value = this.node(next.indent);
      else if (next && next.indent === parentIndent && isSequenceItem(next.text)) value = this.sequence(parentIndent);
      else value = null;
    } else if (/^[|>]/.test(rest)) {
      value = this.blockScalar(rest, line, parentIndent);
    } else {
      value = this.inline(rest, line);
    }
    if (anchor !== undefined) this.anchors.set(anchor, value);
    return value;
  }

  private blockScalar(header: string, line: Line, parentIndent: number): string {
    const m = /^([|>])([-+]?)$/.exec(header);
    if (!m) throw new YamlError(`unsupported block scalar header ${JSON.stringify(header)}`, line.no);
    const [, style, chomp] = m;
    const body: string[] = [];
    let indent = -1;
    let i = line.no + 1;
    for (; i < this.lines.length; i++) {
      const raw = this.lines[i]!;
      if (raw.trim() === '') {
        body.push('');
        continue;
      }
      const ind = raw.length - raw.trimStart().length;
      if (indent < 0) {
        if (ind <= parentIndent) break;
        indent = ind;
      }
      if (ind < indent) break;
      body.push(raw.slice(indent));
    }
    // trailing blank lines belong to the chomping, not to the following node
    let trailing = 0;
    while (body.length > 0 && body[body.length - 1] === '') {
      body.pop();
      trailing++;
    }
    this.pos = i - trailing;
    let text: string;
    if (style === '|') {
      text = body.join('\n');
    } else {
      if (body.some((l) => /^\s/.test(l))) throw new YamlError('more-indented lines in a folded scalar are not supported', line.no);
      text = body.reduce((acc, l, k) => (k === 0 ? l : l === '' ? acc + '\n' : acc.endsWith('\n') || acc === '' ? acc + l : `${acc} ${l}`), '');
    }
    if (body.length === 0) return '';
    if (chomp === '-') return text;
    if (chomp === '+') return text + '\n'.repeat(trailing + 1);
    return text + '\n';
  }

  /** an inline value: alias, flow collection (possibly continued on the next lines), quoted or plain scalar */
  private inline(text: string, line: Line): YamlValue {
    if (text.startsWith('*')) {
      const name = text.slice(1);
      if (!this.anchors.has(name)) throw new YamlError(`unknown alias *${name}`, line.no);
      return structuredClone(this.anchors.get(name)!);
    }
    if (text.startsWith('!')) throw new YamlError(`tags are not supported (${text.split(/\s/)[0]})`, line.no);
    if (text.startsWith('[') || text.startsWith('{')) {
      let source = text;
      while (!flowBalanced(source, line.no)) {
        const next = this.peek();
        if (!next) throw new YamlError('unterminated flow collection', line.no);
        source += ' ' + next.text;
        this.pos = next.no + 1;
      }
      const flow = new FlowReader(source, line.no);
      const value = flow.value();
      flow.end();
      return value;
    }
    if (text.startsWith('"') || text.startsWith("'")) {
      const [value, end] = readQuoted(text, 0, line.no);
      if (text.slice(end).trim() !== '') throw new YamlError('unexpected text after a quoted scalar', line.no);
      return value;
    }
    if (/^[@`%]/.test(text)) throw new YamlError(`a plain scalar cannot start with ${text[0]}`, line.no);
    return resolvePlain(text, line.no);
  }
}

function isSequenceItem(text: string): boolean {
  return text === '-' || text.startsWith('- ');
}

/** index of the ":" that ends a mapping key on this line, or -1 */
function keyEnd(text: string, line: number): number {
  if (text.startsWith('"') || text.startsWith("'")) {
    const [, end] = readQuoted(text, 0, line);
    return text[end] === ':' && (end + 1 === text.length || text[end + 1] === ' ') ? end : -1;
  }
  if (/^[[{]/.test(text)) return -1;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === ':' && (i + 1 === text.length || text[i + 1] === ' ')) return i;
  }
  return -1;
}

function parseKey(text: string, line: number): string {
  const t = text.trim();
  if (t.startsWith('"') || t.startsWith("'")) return readQuoted(t, 0, line)[0];
  if (t === '' || /^[?[{&*!|>]/.test(t)) throw new YamlError(`unsupported key ${JSON.stringify(t)}`, line);
  return t;
}

/** removes a comment: "#" at the start or after whitespace, outside quotes */
function stripComment(text: string): string {
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (quote === '"' && c === '\\') i++;
      else if (c === quote) {
        if (quote === "'" && text[i + 1] === "'") i++;
        else quote = undefined;
      }
    } else if (c === '#' && (i === 0 || text[i - 1] === ' ')) {
      return text.slice(0, i);
    } else if ((c === '"' || c === "'") && (i === 0 || /[\s[{,:-]/.test(text[i - 1]!))) {
      quote = c;
    }
  }
  return text;
}

/** reads a quoted scalar starting at `start`; returns the value and the index after the closing quote */
function readQuoted(text: string, start: number, line: number): [string, number] {
  const q = text[start]!;
  let out = '';
  for (let i = start + 1; i < text.length; i++) {
    const c = text[i]!;
    if (q === "'") {
      if (c === "'") {
        if (text[i + 1] === "'") {
          out += "'";
          i++;
          continue;
        }
        return [out, i + 1];
      }
      out += c;
    } else {
      if (c === '"') return [out, i + 1];
      if (c === '\\') {
        const e = text[++i];
        if (e === 'u' || e === 'x' || e === 'U') {
          const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
          const hex = text.slice(i + 1, i + 1 + n);
          if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(hex)) throw new YamlError(`bad escape \\${e}${hex}`, line);
          out += String.fromCodePoint(Number.parseInt(hex, 16));
          i += n;
        } else if (e !== undefined && e in ESCAPES) {
          out += ESCAPES[e];
        } else {
          throw new YamlError(`unsupported escape \\${e ?? ''}`, line);
        }
        continue;
      }
      out += c;
    }
  }
  throw new YamlError('unterminated quoted scalar (multi-line quoted scalars are not supported)', line);
}

function flowBalanced(text: string, line: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"' || c === "'") {
      try {
        i = readQuoted(text, i, line)[1] - 1;
      } catch {
        return false;
      }
    } else if (c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') depth--;
  }
  return depth <= 0;
}

class FlowReader {
  private i = 0;
  constructor(
    private readonly text: string,
    private readonly line: number,
  ) {}

  end(): void {
    this.skip();
    if (this.i < this.text.length) throw new YamlError(`unexpected ${JSON.stringify(this.text.slice(this.i))} after a flow collection`, this.line);
  }

  value(): YamlValue {
    this.skip();
    const c = this.text[this.i];
    if (c === '[') {
      this.i++;
      const out: YamlValue[] = [];
      for (;;) {
        this.skip();
        if (this.text[this.i] === ']') {
          this.i++;
          return out;
        }
        out.push(this.value());
        this.skip();
        if (this.text[this.i] === ',') this.i++;
        else if (this.text[this.i] !== ']') throw new YamlError('expected "," or "]" in a flow sequence', this.line);
      }
    }
    if (c === '{') {
      this.i++;
      const out: Record<string, YamlValue> = {};
      for (;;) {
        this.skip();
        if (this.text[this.i] === '}') {
          this.i++;
          return out;
        }
        const key = this.scalar(true);
        if (typeof key !== 'string' && typeof key !== 'number') throw new YamlError('flow mapping keys must be scalars', this.line);
        this.skip();
        if (this.text[this.i] !== ':') throw new YamlError('expected ":" in a flow mapping', this.line);
        this.i++;
        if (String(key) in out) throw new YamlError(`duplicate key ${JSON.stringify(key)}`, this.line);
        out[String(key)] = this.value();
        this.skip();
        if (this.text[this.i] === ',') this.i++;
        else if (this.text[this.i] !== '}') throw new YamlError('expected "," or "}" in a flow mapping', this.line);
      }
    }
    return this.scalar(false);
  }

  private scalar(isKey: boolean): YamlValue {
    this.skip();
    const c = this.text[this.i];
    if (c === '"' || c === "'") {
      const [value, end] = readQuoted(this.text, this.i, this.line);
      this.i = end;
      return value;
    }
    const start = this.i;
    while (
      this.i < this.text.length &&
      !/[,\]}]/.test(this.text[this.i]!) &&
      !(this.text[this.i] === ':' && (isKey || /[\s,\]}]/.test(this.text[this.i + 1] ?? ' ')))
    )
      this.i++;
    const raw = this.text.slice(start, this.i).trim();
    if (raw === '') throw new YamlError('empty flow scalar', this.line);
    if (/^[[{&*!]/.test(raw)) throw new YamlError(`unsupported flow scalar ${JSON.stringify(raw)}`, this.line);
    return isKey ? raw : resolvePlain(raw, this.line);
  }

  private skip(): void {
    while (this.text[this.i] === ' ') this.i++;
  }
}
