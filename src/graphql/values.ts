/**
 * Typed Cypher values <-> what GraphQL resolvers see (pure). Nodes and relationships become
 * objects of their properties (plus _id, _labels / _type); maps become objects; temporals and
 * points their ISO strings. Each object remembers its typed properties, so a nested field gets its
 * parent back as an exact Cypher map ($parent), never a lossy JavaScript copy.
 */
import type { TypedValue } from '../values/typed.js';
import { typedFromPlain } from '../values/plain-json.js';

const RAW = Symbol('n4gw.raw');

export function toGraphQL(v: TypedValue): unknown {
  switch (v.$type) {
    case 'Null':
      return null;
    case 'Integer': {
      const n = Number(v._value);
      return Number.isSafeInteger(n) ? n : v._value;
    }
    case 'Float':
      return Number(v._value);
    case 'Boolean':
    case 'String':
      return v._value;
    case 'List':
      return v._value.map(toGraphQL);
    case 'Map': {
      const o: Record<string | symbol, unknown> = {};
      for (const [k, x] of Object.entries(v._value)) o[k] = toGraphQL(x);
      o[RAW] = v._value;
      return o;
    }
    case 'Node': {
      const o: Record<string | symbol, unknown> = { _id: v._value._element_id, _labels: v._value._labels };
      for (const [k, x] of Object.entries(v._value._properties)) o[k] = toGraphQL(x);
      o[RAW] = { ...v._value._properties, _id: { $type: 'String', _value: v._value._element_id } };
      return o;
    }
    case 'Relationship': {
      const o: Record<string | symbol, unknown> = { _id: v._value._element_id, _type: v._value._type };
      for (const [k, x] of Object.entries(v._value._properties)) o[k] = toGraphQL(x);
      o[RAW] = { ...v._value._properties, _id: { $type: 'String', _value: v._value._element_id } };
      return o;
    }
    case 'Path':
      return v._value.map(toGraphQL);
    default:
      return v._value;
  }
}

/** the parent as a Cypher map parameter: its own typed properties (and _id for nodes) */
export function parentParam(parent: unknown): TypedValue {
  if (parent && typeof parent === 'object' && RAW in parent) {
    return { $type: 'Map', _value: (parent as Record<symbol, Record<string, TypedValue>>)[RAW]! };
  }
  return typedFromPlain(parent ?? null);
}

/** GraphQL argument values -> typed Cypher parameters */
export function argumentParams(args: Record<string, unknown>): Record<string, TypedValue> {
  const params: Record<string, TypedValue> = {};
  for (const [k, v] of Object.entries(args)) params[k] = typedFromPlain(v);
  return params;
}
