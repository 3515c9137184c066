/**
 * GraphQL (issue 5) with a real GraphQL client (graphql-request) against the Node server and
 * real Neo4j: queries, mutations then reads with bookmarks, nested batching (statements per
 * shard counted), fan-out fields, every limit, masked errors, a schema that does not load.
 */
import { GraphQLClient, ClientError, gql } from 'graphql-request';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../src/adapters/node/server.js';
import { KEYS, query, sandboxTopology, startTestGateway } from '../support/fixture.js';
import type { TopologyInput } from '../../src/config/schema.js';

const SDL = /* GraphQL */ `
  type Person {
    id: ID!
    name: String!
    region: String!
    knows: [Person!]! @cypher(statement: "MATCH (:GqlPerson {id: $parent.id})-[:KNOWS]->(f:GqlPerson) RETURN f ORDER BY f.id", database: "users")
    friendNames: [String!]! @cypher(statement: "MATCH (:GqlPerson {id: $parent.id})-[:KNOWS]->(f:GqlPerson) RETURN f.name AS n", database: "users")
    statements: Int! @cypher(statement: "RETURN $parent.id AS id", database: "users-us")
  }
  type Query {
    people: [Person!]! @cypher(statement: "MATCH (p:GqlPerson) RETURN p ORDER BY p.id", database: "users")
    person(id: ID!): Person @cypher(statement: "MATCH (p:GqlPerson {id: $id}) RETURN p", database: "users")
    count: Int! @cypher(statement: "MATCH (p:GqlPerson) RETURN count(p) AS c", database: "users")
    usOnly: [String!]! @cypher(statement: "MATCH (p:GqlPerson) RETURN p.name AS name ORDER BY name", database: "users-us")
    boom: Int @cypher(statement: "RETURN 1/0 AS x", database: "users-us")
    bad: Int @cypher(statement: "RETURN $nope AS x", database: "users-us")
  }
  type Mutation {
    addPerson(id: ID!, name: String!, region: String!): Person
      @cypher(statement: "CREATE (p:GqlPerson {id: $id, name: $name, region: $region}) RETURN p", database: "users")
    knows(a: ID!, b: ID!): Boolean
      @cypher(statement: "MATCH (a:GqlPerson {id: $a}), (b:GqlPerson {id: $b}) MERGE (a)-[:KNOWS]->(b) RETURN true AS ok", database: "users")
  }
`;

function topology(graphql: Partial<TopologyInput['graphql']> = {}): TopologyInput {
  const t = sandboxTopology();
  t.composites = { users: { shards: ['users-us', 'users-eu'], shardKey: { strategy: 'lookup', map: { us: 'users-us', eu: 'users-eu' } } } };
  t.graphql = { schema: [], maxDepth: 5, maxAliases: 4, maxCost: 30, graphiql: true, ...graphql };
  return t;
}

let gw: RunningGateway;
let client: GraphQLClient;

async function statementsRun(): Promise<number> {
  const text = await (await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${KEYS.admin}` } })).text();
  return [...text.matchAll(/^gateway_shard_requests_total\{[^}]*\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
}

beforeAll(async () => {
  gw = await startTestGateway({ topology: topology(), graphqlSchema: SDL });
  client = new GraphQLClient(`${gw.url}/graphql`, { headers: { authorization: `Bearer ${KEYS.admin}` } });
  // fresh data: three people in us, two in eu, KNOWS within each shard
  for (const [shard, rows] of [
    [
      'users-us',
      [
        ['u1', 'Ada'],
        ['u2', 'Grace'],
        ['u3', 'Linus'],
      ],
    ],
    [
      'users-eu',
      [
        ['e1', 'Ines'],
        ['e2', 'Jonas'],
      ],
    ],
  ] as const) {
    const res = await query(gw, shard, {
      statement:
        'MATCH (p:GqlPerson) DETACH DELETE p WITH count(*) AS gone UNWIND $rows AS r CREATE (:GqlPerson {id: r[0], name: r[1], region: $shard}) WITH collect(1) AS made MATCH (a:GqlPerson), (b:GqlPerson) WHERE a.id < b.id CREATE (a)-[:KNOWS]->(b) RETURN count(*) AS rels',
      parameters: { rows: rows.map((r) => [...r]), shard },
    });
    expect(res.status, res.text).toBe(202);
  }
});
afterAll(async () => {
  await gw?.stop();
});

describe('queries', () => {
  it('a list field over a composite fans out and merges (ORDER BY kept)', async () => {
    const data = await client.request<{ people: { id: string; name: string }[] }>(gql`
      {
        people {
          id
          name
        }
      }
    `);
    expect(data.people.map((p) => p.id)).toEqual(['e1', 'e2', 'u1', 'u2', 'u3']);
  });

  it('answers queries over GET too', async () => {
    const res = await fetch(`${gw.url}/graphql?query=${encodeURIComponent('{ count }')}`, {
      headers: { authorization: `Bearer ${KEYS.admin}`, accept: 'application/json' },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { data: { count: number } }).data.count).toBe(5);
  });

  it('arguments arrive as parameters; a missing match is null', async () => {
    const data = await client.request<{ person: { name: string } | null; none: unknown }>(
      gql`
        query ($id: ID!) {
          person(id: $id) {
            name
          }
          none: person(id: "zz") {
            name
          }
        }
      `,
      { id: 'e2' },
    );
    expect(data.person).toEqual({ name: 'Jonas' });
    expect(data.none).toBeNull();
  });

  it('an aggregate over a composite is combined across shards', async () => {
    const data = await client.request<{ count: number }>(gql`
      {
        count
      }
    `);
    expect(data.count).toBe(5);
  });

  it('cypher injection through arguments is impossible: they are parameters', async () => {
    const data = await client.request<{ person: unknown }>(gql`
      {
        person(id: "x\\"}) DETACH DELETE (p) //") {
          name
        }
      }
    `);
    expect(data.person).toBeNull();
    expect(
      (
        await client.request<{ count: number }>(gql`
          {
            count
          }
        `)
      ).count,
    ).toBe(5);
  });
});

describe('nested batching', () => {
  it('one statement per shard per nesting level, not one per parent', async () => {
    const before = await statementsRun();
    const data = await client.request<{ people: { id: string; knows: { id: string; friendNames: string[] }[] }[] }>(gql`
      {
        people {
          id
          knows {
            id
            friendNames
          }
        }
      }
    `);
    const after = await statementsRun();
    expect(data.people.find((p) => p.id === 'u1')!.knows.map((k) => k.id)).toEqual(['u2', 'u3']);
    expect(data.people.find((p) => p.id === 'u1')!.knows[0]!.friendNames).toEqual(['Linus']);
    expect(data.people.find((p) => p.id === 'e2')!.knows).toEqual([]);
    // depth 3 over a 2-shard composite: 3 levels x 2 shards = 6 statements (5 people, 4 + 3 nested parents)
    expect(after - before).toBe(6);
  });
});

describe('mutations and bookmarks', () => {
  it('a mutation goes to the shard the shard key selects; a read with its bookmarks sees it', async () => {
    const writer = new GraphQLClient(`${gw.url}/graphql`, { headers: { authorization: `Bearer ${KEYS.admin}`, 'x-neo4j-shard-key': 'eu' } });
    const { data, headers } = await writer.rawRequest<{ addPerson: { id: string; region: string } }>(gql`
      mutation {
        addPerson(id: "e9", name: "Zoe", region: "eu") {
          id
          region
        }
      }
    `);
    expect(data.addPerson).toEqual({ id: 'e9', region: 'eu' });
    expect(headers.get('x-gateway-route')).toMatch(/^users-eu=/);
    const bookmarks = headers.get('x-neo4j-bookmarks')!;
    expect(bookmarks).toMatch(/^n4gw1:/);
    const reader = new GraphQLClient(`${gw.url}/graphql`, { headers: { authorization: `Bearer ${KEYS.admin}`, 'x-neo4j-bookmarks': bookmarks } });
    const read = await reader.request<{ person: { name: string } }>(gql`
      {
        person(id: "e9") {
          name
        }
      }
    `);
    expect(read.person.name).toBe('Zoe');
  });

  it('a mutation that would write to every shard is refused with its code', async () => {
    const err = await client
      .request(gql`
        mutation {
          addPerson(id: "x1", name: "X", region: "?") {
            id
          }
        }
      `)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect((err as ClientError).response.errors![0]!.extensions!.code).toBe('Neo.ClientError.Gateway.MultiShardWrite');
  });
});

describe('protection', () => {
  it('depth limit', async () => {
    const err = (await client
      .request(gql`
        {
          people {
            knows {
              knows {
                knows {
                  knows {
                    id
                  }
                }
              }
            }
          }
        }
      `)
      .catch((e: unknown) => e)) as ClientError;
    expect(err.response.errors![0]!.message).toMatch(/depth 6 exceeds the limit of 5/);
  });

  it('alias limit', async () => {
    const err = (await client
      .request(gql`
        {
          a: count
          b: count
          c: count
          d: count
          e: count
        }
      `)
      .catch((e: unknown) => e)) as ClientError;
    expect(err.response.errors![0]!.message).toMatch(/5 aliases exceed the limit of 4/);
  });

  it('cost limit counts fan-out width', async () => {
    const cheap = await startTestGateway({ topology: topology({ maxCost: 5 }), graphqlSchema: SDL });
    try {
      const c = new GraphQLClient(`${cheap.url}/graphql`, { headers: { authorization: `Bearer ${KEYS.admin}` } });
      // count (2 shards) + people (2) + usOnly (1 shard) = 5: allowed
      expect(
        (
          await c.request<{ count: number }>(gql`
            {
              count
              people {
                id
              }
              usOnly
            }
          `)
        ).count,
      ).toBeGreaterThanOrEqual(5);
      // one nested composite field more = 7 > 5
      const err = (await c
        .request(gql`
          {
            count
            people {
              knows {
                id
              }
            }
            usOnly
          }
        `)
        .catch((e: unknown) => e)) as ClientError;
      expect(err.response.errors![0]!.message).toMatch(/cost 7 exceeds the limit of 5/);
    } finally {
      await cheap.stop();
    }
  });

  it('Neo4j client errors keep their codes; nothing internal leaks', async () => {
    const err = (await client
      .request(gql`
        {
          boom
        }
      `)
      .catch((e: unknown) => e)) as ClientError;
    expect(err.response.errors![0]!.extensions!.code).toBe('Neo.ClientError.Statement.ArithmeticError');
    const missing = (await client
      .request(gql`
        {
          bad
        }
      `)
      .catch((e: unknown) => e)) as ClientError;
    expect(missing.response.errors![0]!.extensions!.code).toBe('Neo.ClientError.Statement.ParameterMissing');
    expect(JSON.stringify(missing.response)).not.toMatch(/at .+\.ts:\d+|stack/);
  });

  it('the same keys as REST: none is 401, a key limited to one shard may not read a composite field', async () => {
    const anon = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ count }' }),
    });
    expect(anon.status).toBe(401);
    const limited = new GraphQLClient(`${gw.url}/graphql`, { headers: { authorization: `Bearer ${KEYS.usOnly}` } });
    const err = (await limited
      .request(gql`
        {
          count
        }
      `)
      .catch((e: unknown) => e)) as ClientError;
    expect(err.response.errors![0]!.extensions!.code).toBe('Neo.ClientError.Security.Forbidden');
    const ok = await limited.request<{ usOnly: string[] }>(gql`
      {
        usOnly
      }
    `);
    expect(ok.usOnly).toEqual(['Ada', 'Grace', 'Linus']);
  });

  it('GraphiQL is served when not in production', async () => {
    const page = await fetch(`${gw.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/graphiql/i);
  });
});

describe('persisted documents', () => {
  it('only allow-listed documents run when an allow-list is configured', async () => {
    const doc = '{ count }';
    const hash = createHash('sha256').update(doc).digest('hex');
    const strict = await startTestGateway({ topology: topology({ persistedDocuments: { [hash]: doc }, graphiql: false }), graphqlSchema: SDL });
    try {
      const c = new GraphQLClient(`${strict.url}/graphql`, { headers: { authorization: `Bearer ${KEYS.admin}` } });
      const plain = await fetch(`${strict.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${KEYS.admin}` },
        body: JSON.stringify({ query: doc }),
      });
      const plainBody = (await plain.json()) as { data?: { count: number } };
      expect(plainBody.data, JSON.stringify(plainBody)).toBeDefined();
      expect(plainBody.data!.count).toBeGreaterThanOrEqual(5);
      const byId = await fetch(`${strict.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${KEYS.admin}` },
        body: JSON.stringify({ documentId: hash }),
      });
      const byIdBody = (await byId.json()) as { data?: { count: number } };
      expect(byIdBody.data, JSON.stringify(byIdBody)).toBeDefined();
      expect(byIdBody.data!.count).toBeGreaterThanOrEqual(5);
      const err = (await c.request('{ people { id } }').catch((e: unknown) => e)) as ClientError;
      expect(err.response.errors![0]!.message).toMatch(/Only persisted documents/);
    } finally {
      await strict.stop();
    }
  });
});

describe('a schema that does not load', () => {
  it.each([
    ['an unknown database', 'type Query { x: Int @cypher(statement: "RETURN 1 AS x", database: "nope") }', /unknown database "nope"/],
    ['two columns', 'type Query { x: Int @cypher(statement: "RETURN 1 AS a, 2 AS b", database: "users-us") }', /exactly one column/],
    [
      'a write in a Query field',
      'type Query { x: Int @cypher(statement: "CREATE (n) RETURN 1 AS x", database: "users-us", mode: WRITE) }',
      /only Mutation fields may use mode WRITE/,
    ],
    [
      'a nested field the planner cannot federate',
      'type P { id: ID! n: Int @cypher(statement: "MATCH (x {id: $parent.id}), (y) RETURN count(y) AS n", database: "users") } type Query { p: [P!]! @cypher(statement: "MATCH (p) RETURN p", database: "users") }',
      /cannot be batched exactly over composite "users": .*cross-shard join/,
    ],
    [
      'a write in a field declared READ',
      'type Query { x: Int @cypher(statement: "USE users.`users-us` CREATE (n) RETURN 1 AS x", database: "users") }',
      /may not write/,
    ],
    [
      'a Mutation declared mode: READ that writes',
      'type Query { x: Int } type Mutation { m: Int @cypher(statement: "MERGE (n:X) RETURN 1 AS m", database: "users-us", mode: READ) }',
      /Mutation field declared mode: READ may not write/,
    ],
    [
      'a nested READ field that sets',
      'type P { id: ID! n: Int @cypher(statement: "MATCH (x {id: $parent.id}) SET x.seen = true RETURN 1 AS n", database: "users") } type Query { p: [P!]! @cypher(statement: "MATCH (p) RETURN p", database: "users") }',
      /may not write/,
    ],
    ['invalid SDL', 'type Query { x: Nope }', /Unknown type "Nope"/],
  ])('%s is refused at start, with the field named', async (_name, sdl, message) => {
    await expect(startTestGateway({ topology: topology(), graphqlSchema: sdl })).rejects.toThrow(message);
  });
});
