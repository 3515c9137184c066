/**
 * TCK value literals (the cells of "parameters are" tables: `1`, `-1.5`, `'str'`, `[1, 2]`,
 * `{k: 'v'}`, `null`, `true`, `NaN`, `Inf`, ...) parsed into the Query API's typed JSON
 * (TypedValue), so a parameter reaches the gateway and Neo4j with its exact Cypher type.
 * Graph values (nodes, relationships, paths) cannot be parameters and are refused.
 */
import type { TypedValue } from '../../src/values/typed.js';

export class LiteralError extends Error {}

/** Parses one TCK value literal; throws LiteralError on anything else. */
export function parseTckValue(text: string): TypedValue {
  const p = new LiteralParser(text);
  const v = p.value();
  p.ws();
  if (!p.done()) throw p.fail('trailing input');
  return v;
}

class LiteralParser {
  private i = 0;
  constructor(private readonly s: string) {}

  done(): boolean {
    return this.i >= this.s.length;
  }

  fail(what: string): LiteralError {
    return new LiteralError(`${what} at ${this.i} in TCK value ${JSON.stringify(this.s)}`);
  }

  ws(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i]!)) this.i++;
  }

  private eat(c: string): boolean {
    this.ws();
    if (this.s.startsWith(c, this.i)) {
      this.i += c.length;
      return true;
    }
    return false;
  }

  private expect(c: string): void {
    if (!this.eat(c)) throw this.fail(`expected ${c}`);
  }

  value(): TypedValue {
    this.ws();
    const c = this.s[this.i];
    if (c === undefined) throw this.fail('expected a value');
    if (c === "'" || c === '"') return { $type: 'String', _value: this.string() };
    if (c === '[') return this.list();
    if (c === '{') return this.map();
    if (c === '(' || c === '<') throw this.fail('graph values cannot be parameters');
    const word = /^(null|true|false|NaN|-?Inf(?:inity)?)\b/.exec(this.s.slice(this.i));
    if (word) {
      this.i += word[0].length;
      switch (word[1]) {
        case 'null':
          return { $type: 'Null', _value: null };
        case 'true':
          return { $type: 'Boolean', _value: true };
        case 'false':
          return { $type: 'Boolean', _value: false };
        case 'NaN':
          return { $type: 'Float', _value: 'NaN' };
        default:
          return { $type: 'Float', _value: word[1]!.startsWith('-') ? '-Infinity' : 'Infinity' };
      }
    }
    return this.number();
  }

  private number(): TypedValue {
    const rest = this.s.slice(this.i);
    const hex = /^-?0x[0-9a-fA-F]+/.exec(rest);
    if (hex) {
      this.i += hex[0].length;
      const neg = hex[0].startsWith('-');
      const big = BigInt(hex[0].replace('-', ''));
      return { $type: 'Integer', _value: (neg ? -big : big).toString() };
    }
    const m = /^-?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?/.exec(rest);
    if (!m) throw this.fail('expected a value');
    this.i += m[0].length;
    if (m[0].includes('.') || m[2] !== undefined) {
      const n = Number(m[0]);
      if (!Number.isFinite(n)) throw this.fail('float out of range');
      return { $type: 'Float', _value: floatText(n) };
    }
    return { $type: 'Integer', _value: BigInt(m[0]).toString() };
  }

  private string(): string {
    const q = this.s[this.i]!;
    this.i++;
    let out = '';
    for (;;) {
      const c = this.s[this.i];
      if (c === undefined) throw this.fail('unterminated string');
      this.i++;
      if (c === q) return out;
      if (c === '\\') {
        const n = this.s[this.i];
        this.i++;
        switch (n) {
          case 'n':
            out += '\n';
            break;
          case 't':
            out += '\t';
            break;
          case 'r':
            out += '\r';
            break;
          case 'b':
            out += '\b';
            break;
          case 'f':
            out += '\f';
            break;
          case 'u': {
            const hex = this.s.slice(this.i, this.i + 4);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw this.fail('bad \\u escape');
            out += String.fromCharCode(parseInt(hex, 16));
            this.i += 4;
            break;
          }
          case undefined:
            throw this.fail('unterminated string');
          default:
            out += n; // \' \" \\ and anything else: the character itself
        }
        continue;
      }
      out += c;
    }
  }

  private list(): TypedValue {
    this.expect('[');
    const items: TypedValue[] = [];
    if (this.eat(']')) return { $type: 'List', _value: items };
    for (;;) {
      items.push(this.value());
      if (this.eat(']')) return { $type: 'List', _value: items };
      this.expect(',');
    }
  }

  private key(): string {
    this.ws();
    const c = this.s[this.i];
    if (c === "'" || c === '"') return this.string();
    if (c === '`') {
      const end = this.s.indexOf('`', this.i + 1);
      if (end < 0) throw this.fail('unterminated key');
      const k = this.s.slice(this.i + 1, end);
      this.i = end + 1;
      return k;
    }
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.s.slice(this.i));
    if (!m) throw this.fail('expected a map key');
    this.i += m[0].length;
    return m[0];
  }

  private map(): TypedValue {
    this.expect('{');
    const out: Record<string, TypedValue> = {};
    if (this.eat('}')) return { $type: 'Map', _value: out };
    for (;;) {
      const k = this.key();
      this.expect(':');
      out[k] = this.value();
      if (this.eat('}')) return { $type: 'Map', _value: out };
      this.expect(',');
    }
  }
}

/** A float as Neo4j writes it in typed JSON: always with a fraction or an exponent. */
function floatText(n: number): string {
  const s = String(n);
  return /[.eE]/.test(s) || !Number.isFinite(n) ? s : `${s}.0`;
}
