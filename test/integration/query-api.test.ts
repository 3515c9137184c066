import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RunningGateway } from '../../src/adapters/node/server.js';
import { direct, query, startTestGateway } from '../support/fixture.js';

let gw: RunningGateway;

beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(async () => {
  await gw?.stop();
});

/** the parts of a Query API body that must equal Neo4j's own answer */
function comparable(body: Record<string, unknown>) {
  const { bookmarks, ...rest } = body;
  return { ...rest, hasBookmarks: Array.isArray(bookmarks) };
}

const STATEMENTS: { name: string; statement: string; parameters?: Record<string, unknown> }[] = [
  {
    name: 'scalars',
    statement: "RETURN 1 AS i, 1.5 AS f, 'x' AS s, true AS b, null AS n, [1,'a'] AS l, {a:1, b:[2.0]} AS m, -0.0 AS nz, 1e20 AS big, 0.0001 AS small",
  },
  { name: 'parameters', statement: 'RETURN $a AS a, $b AS b, $c AS c, $d AS d', parameters: { a: 42, b: 'str', c: [1, 2.5], d: { k: null } } },
  {
    name: 'temporals',
    statement:
      "RETURN date('2020-01-02') AS d, time('12:00:00+01:00') AS t, localtime('12:00') AS lt, localtime('12:34:56.789') AS lt2, datetime('2020-01-02T03:04:05Z') AS dt, datetime('2020-01-02T03:04:05.123+02:00') AS dto, datetime('2020-06-02T03:04:05[Europe/Berlin]') AS dtz, localdatetime('2020-01-02T03:04') AS ldt, duration('P1DT2H') AS du, duration('P1Y2M3W4DT5H6M7.5S') AS du2, duration('PT0S') AS du0",
  },
  { name: 'points', statement: 'RETURN point({x:1, y:2}) AS p2, point({latitude:1.5, longitude:2}) AS pg, point({x:1, y:2, z:3}) AS p3' },
  {
    name: 'graph',
    statement:
      "CREATE (a:Cmp {name:'a', born: date('2000-01-02')})-[r:KNOWS {since: 2020}]->(b:Cmp {name:'b'}) WITH a, r, b MATCH p=(a)-[:KNOWS]->(b) RETURN a, r, b, p",
  },
  { name: 'lists of mixed values', statement: "RETURN [date('2020-01-01'), 1, 'x', null, [point({x:0.5, y:-1})]] AS l, range(1, 5) AS r" },
  { name: 'big integers', statement: 'RETURN 9223372036854775807 AS max, 9007199254740993 AS big, -9007199254740993 AS neg, 42 AS small' },
  { name: 'empty result', statement: 'MATCH (n:NoSuchLabelAnywhere) RETURN n' },
  { name: 'write counters', statement: 'CREATE (n:Cmp2 {v: 1}) SET n.w = 2 REMOVE n.v DELETE n' },
];

describe('Query API compatibility: the gateway answers like Neo4j itself', () => {
  for (const typed of [false, true]) {
    for (const s of STATEMENTS) {
      it(`${s.name} (${typed ? 'typed' : 'plain'} JSON)`, async () => {
        const accept = typed ? 'application/vnd.neo4j.query' : 'application/json';
        const body = { statement: s.statement, parameters: s.parameters ?? {}, includeCounters: true };
        const [viaGateway, reference] = await Promise.all([query(gw, 'users-us', body, { headers: { accept } }), direct('us', body, { accept })]);
        expect(viaGateway.status, viaGateway.text).toBe(reference.status);
        expect(viaGateway.headers.get('content-type')).toBe(reference.headers.get('content-type'));
        const normalise = (b: Record<string, unknown>) => JSON.parse(JSON.stringify(comparable(b)).replace(/"[45]:[0-9a-f-]+:\d+"/g, '"<id>"')) as unknown;
        expect(normalise(viaGateway.body)).toEqual(normalise(reference.body));
      });
    }
  }
});

describe('integers past 2^53 in plain JSON', () => {
  it('keeps every digit, as Neo4j writes them', async () => {
    const res = await query(gw, 'users-us', { statement: 'RETURN 9223372036854775807 AS max, 9007199254740993 AS big' });
    expect(res.status).toBe(202);
    expect(res.text).toContain('"values":[[9223372036854775807,9007199254740993]]');
  });
});

describe('numbers in plain-JSON parameters, exactly as Neo4j reads them', () => {
  it('1.0, -0.0 and 1e2 are Floats, 9007199254740993 keeps its digits', async () => {
    const raw =
      '{"statement": "RETURN $a AS a, $b AS b, $c AS c, $d AS d, $e AS e", "parameters": {"a": 1.0, "b": 9007199254740993, "c": -0.0, "d": 1e2, "e": [1.0, 2, "1.0"]}}';
    const { instances, password } = inject('sandbox');
    for (const accept of ['application/vnd.neo4j.query', 'application/json']) {
      const viaGateway = await query(gw, 'users-us', undefined, { raw, headers: { accept } });
      const reference = await fetch(`${instances.us!.httpUri}/db/neo4j/query/v2`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept, authorization: `Basic ${btoa(`neo4j:${password}`)}` },
        body: raw,
      });
      const referenceText = await reference.text();
      expect(viaGateway.status).toBe(202);
      expect(viaGateway.text.replace(/,"bookmarks":.*$/, '')).toBe(referenceText.replace(/,"bookmarks":.*$/, ''));
    }
  });
});
