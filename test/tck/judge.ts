/**
 * The judge: compares the gateway's answer with the ground truth's and classifies the run.
 * Values are compared by what a client sees, never by element ids: nodes by labels and
 * properties, relationships by type and properties, paths by their nodes, relationships and
 * directions; Integer and Float stay distinct; maps ignore key order; lists keep their order
 * unless the scenario ignores element order for lists. Pure: no I/O.
 */
import type { TypedValue } from '../../src/values/typed.js';

export type Answer =
  | { ok: true; fields: string[]; values: TypedValue[][]; counters?: Record<string, number | boolean> }
  | {
      ok: false;
      /** HTTP status (0: no HTTP answer) */
      status: number;
      code: string;
      message: string;
      /** rows Neo4j streamed before a runtime error (202 with `errors`) */
      partial?: { fields: string[]; values: TypedValue[][] };
    };

export const RUN_CLASSES = ['equal', 'refused', 'bothFailed', 'gatewayFailed', 'different'] as const;
export type RunClass = (typeof RUN_CLASSES)[number];

const GATEWAY_REFUSAL = 'Neo.ClientError.Gateway.';
const FORBIDDEN = 'Neo.ClientError.Security.Forbidden';

/** The gateway refused the statement on purpose (a 4xx under Neo.ClientError.Gateway.*, or Forbidden). */
export function isRefusal(a: Answer): boolean {
  return !a.ok && a.status >= 400 && a.status < 500 && (a.code.startsWith(GATEWAY_REFUSAL) || a.code === FORBIDDEN);
}

export interface ShowOptions {
  /** compare lists as multisets */
  sortLists?: boolean;
  /** floats to this many significant digits (to tell rounding-only differences apart) */
  floatDigits?: number;
}

function showFloat(text: string, digits: number | undefined): string {
  const n = Number(text);
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return 'Inf';
  if (n === -Infinity) return '-Inf';
  if (Object.is(n, -0)) return '-0.0';
  const r = digits === undefined ? n : Number(n.toPrecision(digits));
  const s = String(r);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

const showString = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
const showKey = (k: string) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? k : `\`${k}\``);

function showProps(props: Record<string, TypedValue>, o: ShowOptions): string {
  const keys = Object.keys(props).sort();
  return keys.length === 0 ? '' : ` {${keys.map((k) => `${showKey(k)}: ${show(props[k]!, o)}`).join(', ')}}`;
}

/**
 * A value in the TCK's own notation (`(:A {name: 'a'})`, `[:T]`, `<(:A)-[:T]->(:B)>`, `1`,
 * `1.0`, `'s'`), canonical: equal values (as a client sees them) give equal strings.
 */
export function show(v: TypedValue, o: ShowOptions = {}): string {
  switch (v.$type) {
    case 'Null':
      return 'null';
    case 'Boolean':
      return String(v._value);
    case 'Integer':
      return BigInt(v._value).toString();
    case 'Float':
      return showFloat(v._value, o.floatDigits);
    case 'String':
      return showString(v._value);
    case 'Base64':
      return `bytes(${v._value})`;
    case 'List': {
      const items = v._value.map((x) => show(x, o));
      if (o.sortLists) items.sort();
      return `[${items.join(', ')}]`;
    }
    case 'Map': {
      const keys = Object.keys(v._value).sort();
      return `{${keys.map((k) => `${showKey(k)}: ${show(v._value[k]!, o)}`).join(', ')}}`;
    }
    case 'Node':
      return `(${[...v._value._labels]
        .sort()
        .map((l) => `:${showKey(l)}`)
        .join('')}${showProps(v._value._properties, o)})`;
    case 'Relationship':
      return `[:${showKey(v._value._type)}${showProps(v._value._properties, o)}]`;
    case 'Path': {
      const parts = v._value;
      let out = '';
      let prev: string | undefined;
      for (const p of parts) {
        if (p.$type === 'Node') {
          out += show(p, o);
          prev = p._value._element_id;
        } else if (p.$type === 'Relationship') {
          const forward = p._value._start_node_element_id === prev;
          out += forward ? `-${show(p, o)}->` : `<-${show(p, o)}-`;
        } else {
          out += `?${show(p, o)}?`;
        }
      }
      return `<${out}>`;
    }
    default:
      return `${v.$type}(${showString(String(v._value))})`;
  }
}

export const showRow = (row: TypedValue[], o: ShowOptions = {}) => `| ${row.map((c) => show(c, o)).join(' | ')} |`;

/** Same rows: in order, or as multisets. */
export function sameRows(a: TypedValue[][], b: TypedValue[][], ordered: boolean, o: ShowOptions = {}): boolean {
  if (a.length !== b.length) return false;
  const ra = a.map((r) => showRow(r, o));
  const rb = b.map((r) => showRow(r, o));
  if (!ordered) {
    ra.sort();
    rb.sort();
  }
  return ra.every((r, i) => r === rb[i]);
}

export interface Verdict {
  class: RunClass;
  /** why the run is `different` */
  reason?: string;
  /** the rows differ only past 12 significant digits of some Float */
  floatOnly?: boolean;
}

/** Classifies one run from the two answers (see the README of the TCK judge in tck.test.ts). */
export function classify(gateway: Answer, truth: Answer, shape: { ordered: boolean; ignoreListOrder: boolean }): Verdict {
  if (isRefusal(gateway)) return { class: 'refused' };
  if (!truth.ok) return gateway.ok ? { class: 'different', reason: 'the gateway answered what Neo4j refused' } : { class: 'bothFailed' };
  if (!gateway.ok) return { class: 'gatewayFailed' };
  if (gateway.fields.length !== truth.fields.length || gateway.fields.some((f, i) => f !== truth.fields[i])) {
    return { class: 'different', reason: 'columns differ' };
  }
  const o = { sortLists: shape.ignoreListOrder };
  if (sameRows(gateway.values, truth.values, shape.ordered, o)) return { class: 'equal' };
  const reason =
    gateway.values.length !== truth.values.length
      ? `${gateway.values.length} rows instead of ${truth.values.length}`
      : shape.ordered && sameRows(gateway.values, truth.values, false, o)
        ? 'same rows in another order'
        : 'rows differ';
  return { class: 'different', reason, floatOnly: sameRows(gateway.values, truth.values, shape.ordered, { ...o, floatDigits: 12 }) };
}

/** Counters that say what a write did (bookmarks and system counters aside). */
export function writeCounters(c: Record<string, number | boolean> | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(c ?? {})) if (typeof v === 'number' && k !== 'systemUpdates' && v !== 0) out[k] = v;
  return out;
}

/** A graph, as rows `n, [(n)-[r]->(m) | [r, m]]`, in a canonical multiset form. */
export function graphDigest(rows: TypedValue[][]): string[] {
  return rows.map((r) => `${show(r[0]!)} ${show(r[1] ?? { $type: 'Null', _value: null }, { sortLists: true })}`).sort();
}
