/**
 * GraphQL over a composite answers what the same schema over one database holding all the data
 * answers (issue 10), nested fields included: the same SDL is served twice, once with every
 * field on the composite (three real shards) and once on a ground-truth instance, and every
 * operation is compared. Also: what must be refused when the schema loads, the shard key that
 * only steers writes, and operation limits over fragments (issue 9).
 */
import fc from 'fast-check';
import { GraphQLClient, type ClientError, gql } from 'graphql-request';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { TopologyInput } from '../../src/config/schema.js';
import type { RunningGateway } from '../../src/adapters/node/server.js';
import { KEYS, query, sha256, startTestGateway } from '../support/fixture.js';

const SHARDS = ['gx-us', 'gx-eu', 'gx-ap'] as const;

/** the same SDL over database `db` (the composite, or the ground truth); `idiom`: the one statement written differently for each */
const SDL = (db: string, idiom: string) => /* GraphQL */ `
  type X {
    id: ID!
    name: String
    v: Int
    g: Int
    links: [X!]! @cypher(statement: "MATCH (:GX {id: $parent.id})-[:L]->(f:GX) RETURN f ORDER BY f.id", database: "${db}")
    linkCount: Int! @cypher(statement: "MATCH (:GX {id: $parent.id})-[:L]->(f:GX) RETURN count(f) AS n", database: "${db}")
    linkCountWith: Int! @cypher(statement: "MATCH (:GX {id: $parent.id})-[:L]->(f:GX) WITH count(f) AS n RETURN n AS n", database: "${db}")
    countBraces: Int @cypher(statement: "MATCH (p:GX {id: $parent.id}) RETURN COUNT { (p)-[:L]->() } AS n", database: "${db}")
    hasLinks: Boolean @cypher(statement: "MATCH (p:GX {id: $parent.id}) RETURN EXISTS { (p)-[:L]->() } AS b", database: "${db}")
    linkIds: [[ID!]] @cypher(statement: "MATCH (p:GX {id: $parent.id}) RETURN [(p)-[:L]->(f) | f.id] AS ids", database: "${db}")
    firstLink: ID @cypher(statement: "MATCH (p:GX {id: $parent.id}) OPTIONAL MATCH (p)-[:L]->(f) RETURN f.id AS fid ORDER BY fid LIMIT 1", database: "${db}")
    optionalLinks: [ID] @cypher(statement: "MATCH (p:GX {id: $parent.id}) OPTIONAL MATCH (p)-[:L]->(f) RETURN f.id AS fid", database: "${db}")
    topLink: ID @cypher(statement: "MATCH (:GX {id: $parent.id})-[:L]->(f:GX) RETURN f.id AS id ORDER BY f.v DESC, id LIMIT 1", database: "${db}")
    linkGroups: [Int] @cypher(statement: "MATCH (:GX {id: $parent.id})-[:L]->(f:GX) RETURN DISTINCT f.g AS g", database: "${db}")
    linkNames: [[String]] @cypher(statement: "MATCH (:GX {id: $parent.id})-[:L]->(f:GX) WITH f ORDER BY f.id RETURN collect(f.name) AS names", database: "${db}")
    echo: ID! @cypher(statement: "RETURN $parent.id AS id", database: "${db}")
    linksAbove(min: Int!): [X!]! @cypher(statement: "MATCH (:GX {id: $parent.id})-[:L]->(f:GX) WHERE f.v >= $min RETURN f ORDER BY f.id", database: "${db}")
  }
  type Query {
    all: [X!]! @cypher(statement: "MATCH (n:GX) RETURN n ORDER BY n.id", database: "${db}")
    byId(id: ID!): X @cypher(statement: "MATCH (n:GX {id: $id}) RETURN n", database: "${db}")
    count: Int! @cypher(statement: "MATCH (n:GX) RETURN count(n) AS c", database: "${db}")
    total: Int @cypher(statement: "MATCH (n:GX) RETURN sum(n.v) AS s", database: "${db}")
    names(limit: Int!): [String!]! @cypher(statement: "MATCH (n:GX) RETURN n.name AS name ORDER BY name, n.id LIMIT $limit", database: "${db}")
    groups: [Int] @cypher(statement: "MATCH (n:GX) RETURN DISTINCT n.g AS g ORDER BY g", database: "${db}")
    hello: Int! @cypher(statement: "RETURN 1 AS one", database: "${db}")
    sumXs(xs: [Int!]!): Int @cypher(statement: "UNWIND $xs AS x RETURN sum(x) AS s", database: "${db}")
    maxLinks: Int @cypher(statement: "MATCH (n:GX)-[:L]->(m) WITH n, count(m) AS c RETURN max(c) AS m", database: "${db}")
    perShard: Int @cypher(statement: "${idiom}", database: "${db}")
  }
`;

let composite: RunningGateway;
let truth: RunningGateway;
let cc: GraphQLClient;
let tc: GraphQLClient;

function topology(): TopologyInput {
  const { instances } = inject('sandbox');
  const cluster = (name: string) => ({
    routers: [`neo4j://127.0.0.1:${instances[name]!.bolt}`],
    auth: { user: 'neo4j', passwordEnv: 'NEO4J_PASSWORD_C_US' },
    region: 'r',
  });
  return {
    regions: { r: { lat: 0, lon: 0 } },
    defaultRegion: 'r',
    clusters: { 'c-us': cluster('us'), 'c-eu': cluster('eu'), 'c-ap': cluster('ap'), 'c-truth': cluster('truth') },
    shards: {
      'gx-us': { cluster: 'c-us', database: 'neo4j' },
      'gx-eu': { cluster: 'c-eu', database: 'neo4j' },
      'gx-ap': { cluster: 'c-ap', database: 'neo4j' },
      gtruth: { cluster: 'c-truth', database: 'neo4j' },
    },
    composites: { gx: { shards: [...SHARDS], shardKey: { strategy: 'lookup', map: { us: 'gx-us', eu: 'gx-eu', ap: 'gx-ap' } } } },
    apiKeys: [{ id: 'admin', sha256: sha256(KEYS.admin), databases: ['*'], modes: ['READ', 'WRITE'] }],
    graphql: { schema: [], maxDepth: 8, maxAliases: 20, maxCost: 400, graphiql: false },
  };
}

interface Row {
  id: string;
  shard: number;
  name: string;
  v: number;
  g: number | null;
}

async function load(rows: Row[], links: [number, number][]): Promise<void> {
  const kept = links.filter(([a, b]) => a < rows.length && b < rows.length && a !== b && rows[a]!.shard === rows[b]!.shard);
  const parts: [string, Row[], [number, number][]][] = [
    ['gtruth', rows, kept],
    ...SHARDS.map((s, i) => [s, rows.filter((r) => r.shard === i), kept.filter(([a]) => rows[a]!.shard === i)] as [string, Row[], [number, number][]]),
  ];
  await Promise.all(
    parts.map(async ([shard, rs, ls]) => {
      const res = await query(composite, shard, {
        statement:
          'MATCH (n:GX) DETACH DELETE n WITH count(*) AS gone UNWIND $rows AS r CREATE (:GX {id: r.id, name: r.name, v: r.v, g: r.g}) WITH count(*) AS made UNWIND $links AS l MATCH (a:GX {id: l[0]}), (b:GX {id: l[1]}) CREATE (a)-[:L]->(b)',
        parameters: { rows: rs, links: ls.map(([a, b]) => [rows[a]!.id, rows[b]!.id]) },
      });
      expect(res.status, res.text).toBe(202);
    }),
  );
}

/** fields whose lists (at any depth) have no order the statement fixes: compared as multisets */
const UNORDERED = new Set(['linkIds', 'optionalLinks', 'linkGroups']);

function canon(v: unknown, unordered: boolean): unknown {
  if (Array.isArray(v)) {
    const items = v.map((x) => canon(x, unordered));
    return unordered ? items.map((x) => JSON.stringify(x)).sort() : items;
  }
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.entries(v)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, x]) => [k, canon(x, unordered || UNORDERED.has(k))]),
    );
  return v;
}

const OPERATIONS: { name: string; doc: string; vars?: Record<string, unknown> }[] = [
  { name: 'every root field', doc: '{ count total groups hello maxLinks perShard names(limit: 3) sumXs(xs: [1, 2, 3]) }' },
  { name: 'a list over the composite, ordered', doc: '{ all { id name v g } }' },
  {
    name: 'nested fields per parent (counts, WITH, COUNT{}, EXISTS, comprehension)',
    doc: '{ all { id linkCount linkCountWith countBraces hasLinks linkIds } }',
  },
  { name: 'nested OPTIONAL MATCH, ORDER BY + LIMIT, DISTINCT, ordered collect', doc: '{ all { id firstLink optionalLinks topLink linkGroups linkNames } }' },
  { name: 'nested list of nodes, two levels, arguments of nested fields', doc: '{ all { id links { id echo links { id } } linksAbove(min: 3) { id v } } }' },
  { name: 'one node by id, nested', doc: 'query ($id: ID!) { byId(id: $id) { id name linkCount links { id } } }', vars: { id: 'x1' } },
];

beforeAll(async () => {
  composite = await startTestGateway({
    topology: topology(),
    graphqlSchema: SDL('gx', 'UNWIND graph.names() AS g CALL { USE graph.byName(g) MATCH (n:GX) RETURN count(n) AS c } RETURN sum(c) AS s'),
  });
  truth = await startTestGateway({ topology: topology(), graphqlSchema: SDL('gtruth', 'MATCH (n:GX) RETURN count(n) AS s') });
  cc = new GraphQLClient(`${composite.url}/graphql`, { headers: { authorization: `Bearer ${KEYS.admin}` } });
  tc = new GraphQLClient(`${truth.url}/graphql`, { headers: { authorization: `Bearer ${KEYS.admin}` } });
});

afterAll(async () => {
  await load([], []);
  await composite?.stop();
  await truth?.stop();
});

describe('the same schema over a composite and over one database', () => {
  it('answers every operation the same, for generated data', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            shard: fc.nat(2),
            name: fc.constantFrom('a', 'b', 'é', '😀', 'Z'),
            v: fc.integer({ min: 0, max: 6 }),
            g: fc.option(fc.integer({ min: 0, max: 2 }), { freq: 3 }),
          }),
          { maxLength: 12 },
        ),
        fc.array(fc.tuple(fc.nat(12), fc.nat(12)), { maxLength: 20 }),
        async (rows, links) => {
          await load(
            rows.map((r, i) => ({ ...r, id: `x${i}` })),
            links,
          );
          for (const op of OPERATIONS) {
            const [a, b] = await Promise.all([cc.request(op.doc, op.vars), tc.request(op.doc, op.vars)]);
            expect(canon(a, false), op.name).toEqual(canon(b, false));
          }
        },
      ),
      { numRuns: 8 },
    );
  }, 300_000);

  it('reads ignore the shard key (it only says where a mutation writes)', async () => {
    await load(
      [0, 1, 2].map((i) => ({ id: `x${i}`, shard: i, name: 'n', v: i, g: null })),
      [],
    );
    const keyed = new GraphQLClient(`${composite.url}/graphql`, { headers: { authorization: `Bearer ${KEYS.admin}`, 'x-neo4j-shard-key': 'eu' } });
    expect(
      await keyed.request<{ count: number }>(gql`
        {
          count
        }
      `),
    ).toEqual({ count: 3 });
  });
});

describe('operation limits hold over fragments (each spread counts where it is spread)', () => {
  it('a fragment reused to go deep or to fan out is measured as expanded', async () => {
    const tight = await startTestGateway({
      topology: { ...topology(), graphql: { schema: [], maxDepth: 4, maxAliases: 3, maxCost: 20, graphiql: false } },
      graphqlSchema: SDL('gx', 'RETURN 1 AS s'),
    });
    try {
      const c = new GraphQLClient(`${tight.url}/graphql`, { headers: { authorization: `Bearer ${KEYS.admin}` } });
      // depth through nested fragments: all > links > links > links > id = 5 > 4
      const deep = (await c
        .request('fragment L on X { links { id } } fragment M on X { links { ...L } } { all { links { ...M } } }')
        .catch((e: unknown) => e)) as ClientError;
      expect(deep.response.errors![0]!.message).toMatch(/depth 5 exceeds the limit of 4/);
      // cost: each @cypher field costs 3 (shards); F = 6, F3 = F = 6, F2 = F + F3 = 12; all (3) + F + F2 = 21 > 20
      const costly = (await c
        .request('fragment F on X { linkCount hasLinks } { all { ...F ...F2 } } fragment F2 on X { ...F ...F3 } fragment F3 on X { ...F }')
        .catch((e: unknown) => e)) as ClientError;
      expect(costly.response.errors![0]!.message).toMatch(/cost 21 exceeds the limit of 20/);
      // aliases inside a fragment count at each spread
      const aliases = (await c.request('fragment A on X { a: id b: id } { all { ...A  x: links { ...A } } }').catch((e: unknown) => e)) as ClientError;
      expect(aliases.response.errors![0]!.message).toMatch(/5 aliases exceed the limit of 3/);
      // exponential expansion is measured, never run
      const frags = Array.from({ length: 30 }, (_, i) => `fragment F${i} on X { ...F${i + 1} ...F${i + 1} }`).join(' ') + ' fragment F30 on X { linkCount }';
      const started = Date.now();
      const bomb = (await c.request(`${frags} { all { ...F0 } }`).catch((e: unknown) => e)) as ClientError;
      expect(bomb.response.errors![0]!.message).toMatch(/cost \d+ exceeds/);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await tight.stop();
    }
  });
});
