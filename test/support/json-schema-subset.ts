/**
 * A JSON Schema (draft-07) validator for the keywords the Compose specification's schema uses
 * (infra/deploy/vendor/compose-spec.json): type, properties, patternProperties,
 * additionalProperties, required, items, oneOf, anyOf, allOf, not, enum, const, uniqueItems,
 * minimum, maximum, minItems, maxItems, minLength, maxLength, minProperties, pattern and local $ref.
 *
 * It must never half-check: a schema that uses any other keyword (or a remote $ref) is refused when
 * the validator is built, instead of silently ignoring what it does not understand. `format` is
 * refused too (draft-07 makes it an annotation by default; a schema relying on it should say so).
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Schema = boolean | { [keyword: string]: unknown };

const ANNOTATIONS = new Set([
  '$schema',
  '$id',
  '$comment',
  'title',
  'description',
  'default',
  'examples',
  'deprecated',
  'readOnly',
  'writeOnly',
  'definitions',
  '$defs',
]);
const KEYWORDS = new Set([
  'type',
  'properties',
  'patternProperties',
  'additionalProperties',
  'required',
  'items',
  'oneOf',
  'anyOf',
  'allOf',
  'not',
  'enum',
  'const',
  'uniqueItems',
  'minimum',
  'maximum',
  'minItems',
  'maxItems',
  'minLength',
  'maxLength',
  'minProperties',
  'pattern',
  '$ref',
]);

export class JsonSchemaValidator {
  private readonly patterns = new Map<string, RegExp>();

  /** Throws when the schema uses a keyword this validator does not implement. */
  constructor(private readonly root: Schema) {
    const unknown = new Set<string>();
    this.walk(root, '#', unknown);
    if (unknown.size > 0) throw new Error(`schema keywords not implemented: ${[...unknown].sort().join(', ')}`);
  }

  /** the keywords the schema uses (for a test to show what was checked) */
  keywordsUsed(): string[] {
    const used = new Set<string>();
    const visit = (s: unknown) => {
      if (Array.isArray(s)) s.forEach(visit);
      else if (s && typeof s === 'object') {
        for (const [k, v] of Object.entries(s)) {
          if (k === 'properties' || k === 'patternProperties' || k === 'definitions' || k === '$defs') {
            used.add(k);
            Object.values(v as object).forEach(visit);
          } else {
            used.add(k);
            if (k !== 'enum' && k !== 'const' && k !== 'default' && k !== 'examples') visit(v);
          }
        }
      }
    };
    visit(this.root);
    return [...used].sort();
  }

  /** every violation as "<JSON path>: <message>"; empty when the document is valid */
  validate(doc: Json): string[] {
    return this.check(this.root, doc, '$');
  }

  private walk(s: unknown, at: string, unknown: Set<string>): void {
    if (typeof s === 'boolean') return;
    if (!s || typeof s !== 'object' || Array.isArray(s)) throw new Error(`${at}: not a schema`);
    for (const [k, v] of Object.entries(s)) {
      if (ANNOTATIONS.has(k) && k !== 'definitions' && k !== '$defs') continue;
      if (k === 'definitions' || k === '$defs' || k === 'properties' || k === 'patternProperties') {
        for (const [name, sub] of Object.entries(v as object)) this.walk(sub, `${at}/${k}/${name}`, unknown);
        continue;
      }
      if (!KEYWORDS.has(k)) {
        unknown.add(k);
        continue;
      }
      if (k === '$ref' && !String(v).startsWith('#')) unknown.add(`$ref to ${String(v)}`);
      if (k === 'items' && Array.isArray(v)) unknown.add('items (tuple form)');
      if (k === 'additionalProperties' || k === 'items' || k === 'not') {
        if (!Array.isArray(v)) this.walk(v, `${at}/${k}`, unknown);
      }
      if (k === 'oneOf' || k === 'anyOf' || k === 'allOf') (v as unknown[]).forEach((sub, i) => this.walk(sub, `${at}/${k}/${i}`, unknown));
    }
  }

  private resolve(ref: string): Schema {
    let node: unknown = this.root;
    for (const raw of ref
      .replace(/^#\/?/, '')
      .split('/')
      .filter((p) => p !== '')) {
      const part = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
      node = (node as Record<string, unknown>)?.[part];
      if (node === undefined) throw new Error(`unresolvable $ref ${ref}`);
    }
    return node as Schema;
  }

  private regex(pattern: string): RegExp {
    let r = this.patterns.get(pattern);
    if (!r) {
      r = new RegExp(pattern, 'u');
      this.patterns.set(pattern, r);
    }
    return r;
  }

  private check(schema: Schema, v: Json, path: string): string[] {
    if (schema === true) return [];
    if (schema === false) return [`${path}: not allowed`];
    // draft-07: a $ref's siblings are ignored
    if (typeof schema.$ref === 'string') return this.check(this.resolve(schema.$ref), v, path);
    const errors: string[] = [];
    const s = schema;
    if (s.type !== undefined) {
      const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
      if (!types.some((t) => hasType(v, t))) return [`${path}: expected ${types.join(' or ')}, found ${typeOf(v)}`];
    }
    if (s.enum !== undefined && !(s.enum as Json[]).some((e) => deepEqual(e, v)))
      errors.push(`${path}: ${JSON.stringify(v)} is not one of ${JSON.stringify(s.enum)}`);
    if (s.const !== undefined && !deepEqual(s.const as Json, v)) errors.push(`${path}: must be ${JSON.stringify(s.const)}`);
    if (typeof v === 'number') {
      if (typeof s.minimum === 'number' && v < s.minimum) errors.push(`${path}: ${v} < minimum ${s.minimum}`);
      if (typeof s.maximum === 'number' && v > s.maximum) errors.push(`${path}: ${v} > maximum ${s.maximum}`);
    }
    if (typeof v === 'string') {
      if (typeof s.pattern === 'string' && !this.regex(s.pattern).test(v)) errors.push(`${path}: ${JSON.stringify(v)} does not match ${s.pattern}`);
      const length = [...v].length;
      if (typeof s.minLength === 'number' && length < s.minLength) errors.push(`${path}: shorter than ${s.minLength}`);
      if (typeof s.maxLength === 'number' && length > s.maxLength) errors.push(`${path}: longer than ${s.maxLength}`);
    }
    if (Array.isArray(v)) {
      if (s.items !== undefined) v.forEach((x, i) => errors.push(...this.check(s.items as Schema, x, `${path}[${i}]`)));
      if (s.uniqueItems === true) {
        for (let i = 0; i < v.length; i++)
          for (let j = i + 1; j < v.length; j++) if (deepEqual(v[i]!, v[j]!)) errors.push(`${path}: items ${i} and ${j} are equal`);
      }
      if (typeof s.minItems === 'number' && v.length < s.minItems) errors.push(`${path}: fewer than ${s.minItems} items`);
      if (typeof s.maxItems === 'number' && v.length > s.maxItems) errors.push(`${path}: more than ${s.maxItems} items`);
    }
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const props = (s.properties ?? {}) as Record<string, Schema>;
      const patterns = Object.entries((s.patternProperties ?? {}) as Record<string, Schema>);
      for (const name of (s.required ?? []) as string[]) if (!(name in v)) errors.push(`${path}: missing required property "${name}"`);
      if (typeof s.minProperties === 'number' && Object.keys(v).length < s.minProperties) errors.push(`${path}: fewer than ${s.minProperties} properties`);
      for (const [k, x] of Object.entries(v)) {
        const at = /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`;
        let matched = false;
        if (Object.hasOwn(props, k)) {
          matched = true;
          errors.push(...this.check(props[k]!, x, at));
        }
        for (const [p, sub] of patterns) {
          if (this.regex(p).test(k)) {
            matched = true;
            errors.push(...this.check(sub, x, at));
          }
        }
        if (!matched && s.additionalProperties !== undefined) {
          if (s.additionalProperties === false) errors.push(`${at}: unknown property`);
          else errors.push(...this.check(s.additionalProperties as Schema, x, at));
        }
      }
    }
    if (Array.isArray(s.allOf)) for (const sub of s.allOf as Schema[]) errors.push(...this.check(sub, v, path));
    if (Array.isArray(s.anyOf)) {
      const results = (s.anyOf as Schema[]).map((sub) => this.check(sub, v, path));
      if (!results.some((r) => r.length === 0)) errors.push(`${path}: matches none of anyOf (${closest(results)})`);
    }
    if (Array.isArray(s.oneOf)) {
      const results = (s.oneOf as Schema[]).map((sub) => this.check(sub, v, path));
      const valid = results.filter((r) => r.length === 0).length;
      if (valid === 0) errors.push(`${path}: matches none of oneOf (${closest(results)})`);
      else if (valid > 1) errors.push(`${path}: matches ${valid} branches of oneOf, exactly one expected`);
    }
    if (s.not !== undefined && this.check(s.not as Schema, v, path).length === 0) errors.push(`${path}: matches a schema it must not`);
    return errors;
  }
}

function closest(results: string[][]): string {
  const best = results.reduce((a, b) => (a.length <= b.length ? a : b));
  return best.slice(0, 3).join('; ');
}

function typeOf(v: Json): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function hasType(v: Json, t: string): boolean {
  switch (t) {
    case 'null':
      return v === null;
    case 'boolean':
      return typeof v === 'boolean';
    case 'string':
      return typeof v === 'string';
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'array':
      return Array.isArray(v);
    case 'object':
      return v !== null && typeof v === 'object' && !Array.isArray(v);
    default:
      throw new Error(`unknown JSON Schema type ${t}`);
  }
}

function deepEqual(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === (b as Json[]).length && a.every((x, i) => deepEqual(x, (b as Json[])[i]!));
  const ka = Object.keys(a);
  const kb = Object.keys(b as object);
  return (
    ka.length === kb.length && ka.every((k) => Object.hasOwn(b as object, k) && deepEqual((a as Record<string, Json>)[k]!, (b as Record<string, Json>)[k]!))
  );
}
