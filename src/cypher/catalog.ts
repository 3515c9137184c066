/**
 * What the gateway knows about Neo4j's built-in functions and procedures (data, no logic).
 * Source: `SHOW FUNCTIONS YIELD name WHERE isBuiltIn` and `SHOW PROCEDURES YIELD name, mode` on
 * Neo4j 5.26 Community, plus the composite functions of Enterprise (graph.names,
 * graph.propertiesByName). Names compare case-insensitively, as Neo4j resolves built-ins.
 */

export const BUILTIN_FUNCTIONS: ReadonlySet<string> = new Set(
  [
    'abs', 'acos', 'all', 'any', 'asin', 'atan', 'atan2', 'avg', 'btrim', 'ceil', 'char_length', 'character_length', 'coalesce', 'collect', 'cos', 'cot', 'count',
    'date', 'date.realtime', 'date.statement', 'date.transaction', 'date.truncate', 'datetime', 'datetime.fromepoch', 'datetime.fromepochmillis', 'datetime.realtime',
    'datetime.statement', 'datetime.transaction', 'datetime.truncate', 'degrees', 'duration', 'duration.between', 'duration.inDays', 'duration.inMonths',
    'duration.inSeconds', 'e', 'elementId', 'endNode', 'exists', 'exp', 'file', 'floor', 'graph.byElementId', 'graph.byName', 'graph.names', 'graph.propertiesByName',
    'haversin', 'head', 'id', 'isEmpty', 'isNaN', 'keys', 'labels', 'last', 'left', 'length', 'linenumber', 'localdatetime', 'localdatetime.realtime',
    'localdatetime.statement', 'localdatetime.transaction', 'localdatetime.truncate', 'localtime', 'localtime.realtime', 'localtime.statement', 'localtime.transaction',
    'localtime.truncate', 'log', 'log10', 'lower', 'ltrim', 'max', 'min', 'nodes', 'none', 'normalize', 'nullIf', 'percentileCont', 'percentileDisc', 'pi', 'point',
    'point.distance', 'point.withinBBox', 'properties', 'radians', 'rand', 'randomUUID', 'range', 'reduce', 'relationships', 'replace', 'reverse', 'right', 'round',
    'rtrim', 'sign', 'sin', 'single', 'size', 'split', 'sqrt', 'startNode', 'stdev', 'stdevp', 'substring', 'sum', 'tail', 'tan', 'time', 'time.realtime',
    'time.statement', 'time.transaction', 'time.truncate', 'timestamp', 'toBoolean', 'toBooleanList', 'toBooleanOrNull', 'toFloat', 'toFloatList', 'toFloatOrNull',
    'toInteger', 'toIntegerList', 'toIntegerOrNull', 'toLower', 'toString', 'toStringList', 'toStringOrNull', 'toUpper', 'trim', 'type', 'upper', 'valueType',
    'vector.similarity.cosine', 'vector.similarity.euclidean',
  ].map((n) => n.toLowerCase()),
);

/** aggregating functions (count(*) is its own rule) */
export const AGGREGATE_FUNCTIONS: ReadonlySet<string> = new Set(['count', 'sum', 'avg', 'min', 'max', 'collect', 'stdev', 'stdevp', 'percentilecont', 'percentiledisc']);

/**
 * Functions whose value differs between two evaluations (time, randomness): a statement that
 * uses them is not deterministic, so running a prefix of it on every shard could disagree.
 */
export const NONDETERMINISTIC_FUNCTIONS: ReadonlySet<string> = new Set(
  ['rand', 'randomuuid', 'timestamp', 'date', 'datetime', 'localdatetime', 'localtime', 'time', 'date.realtime', 'date.statement', 'date.transaction',
    'datetime.realtime', 'datetime.statement', 'datetime.transaction', 'localdatetime.realtime', 'localdatetime.statement', 'localdatetime.transaction',
    'localtime.realtime', 'localtime.statement', 'localtime.transaction', 'time.realtime', 'time.statement', 'time.transaction'],
);

/**
 * Procedures any key may call: they read the schema or run a read-only index query, and reveal
 * nothing about other keys or the server. Everything else needs `procedures:<pattern>` (or
 * `admin`; `dbms.*` only `admin`).
 */
export const READ_ONLY_PROCEDURES: ReadonlySet<string> = new Set(
  ['db.labels', 'db.relationshipTypes', 'db.propertyKeys', 'db.schema.visualization', 'db.schema.nodeTypeProperties', 'db.schema.relTypeProperties',
    'db.index.fulltext.queryNodes', 'db.index.fulltext.queryRelationships', 'db.index.fulltext.listAvailableAnalyzers', 'db.index.vector.queryNodes',
    'db.index.vector.queryRelationships', 'db.ping'].map((n) => n.toLowerCase()),
);
