/**
 * The gateway's value model: Neo4j's typed JSON (the Query API's `application/vnd.neo4j.query`
 * encoding). Every value crosses the gateway in this form: lossless (64-bit integers and doubles
 * as text, temporal values with their zones), runtime-neutral, and what an HTTP transport gets
 * from Neo4j as is.
 */

export type TypedValue =
  | { $type: 'Null'; _value: null }
  | { $type: 'Boolean'; _value: boolean }
  | { $type: 'Integer'; _value: string }
  | { $type: 'Float'; _value: string }
  | { $type: 'String'; _value: string }
  | { $type: 'Base64'; _value: string }
  | { $type: 'List'; _value: TypedValue[] }
  | { $type: 'Map'; _value: Record<string, TypedValue> }
  | { $type: 'Date' | 'Time' | 'LocalTime' | 'OffsetDateTime' | 'ZonedDateTime' | 'LocalDateTime' | 'Duration' | 'Point'; _value: string }
  | { $type: 'Node'; _value: TypedNode }
  | { $type: 'Relationship'; _value: TypedRelationship }
  | { $type: 'Path'; _value: TypedValue[] };

export interface TypedNode {
  _element_id: string;
  _labels: string[];
  _properties: Record<string, TypedValue>;
}

export interface TypedRelationship {
  _element_id: string;
  _start_node_element_id: string;
  _end_node_element_id: string;
  _type: string;
  _properties: Record<string, TypedValue>;
}
