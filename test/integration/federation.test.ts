/**
 * Federation proof (issue 4): the same generated data is spread over three shards (real Neo4j
 * instances us, eu, ap) and loaded whole into a ground-truth instance. For generated queries of
 * every supported shape, the gateway's merged answer over the composite must equal the
 * ground-truth instance's answer: as a multiset, or in order where ORDER BY fixes the order.
 */
import fc from 'fast-check';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { TopologyInput } from '../../src/config/schema.js';
import type { RunningGateway } from '../../src/adapters/node/server.js';
import { equivalenceKey as canonicalKey } from '../../src/values/equivalence.js';
import type { TypedValue } from '../../src/values/typed.js';
import { direct, KEYS, query, sha256, startTestGateway } from '../support/fixture.js';

const SHARDS = ['fed-us', 'fed-eu', 'fed-ap'] as const;
let gw: RunningGateway;

function topology(): TopologyInput {
  const { instances } = inject('sandbox');
  const cluster = (name: string, region: string) => ({
    routers: [`neo4j://127.0.0.1:${instances[name]!.bolt}`],
    auth: { user: 'neo4j', passwordEnv: 'NEO4J_PASSWORD_C_US' },
    region,
  });
  return {
    regions: { 'us-west': { lat: 37.4, lon: -122.1 }, eu: { lat: 50.1, lon: 8.7 }, ap: { lat: 1.35, lon: 103.8 } },
    defaultRegion: 'us-west',
    clusters: {
      'c-us': cluster('us', 'us-west'),
      'c-eu': cluster('eu', 'eu'),
      'c-ap': cluster('ap', 'ap'),
      'c-truth': cluster('truth', 'us-west'),
      'c-dead': { routers: ['neo4j://127.0.0.1:1'], auth: { user: 'neo4j', passwordEnv: 'NEO4J_PASSWORD_C_US' } },
    },
    shards: {
      'fed-us': { cluster: 'c-us', database: 'neo4j' },
      'fed-eu': { cluster: 'c-eu', database: 'neo4j' },
      'fed-ap': { cluster: 'c-ap', database: 'neo4j' },
      truth: { cluster: 'c-truth', database: 'neo4j' },
      dead: { cluster: 'c-dead', database: 'neo4j' },
    },
    composites: {
      fed: { shards: [...SHARDS], shardKey: { strategy: 'lookup', map: { us: 'fed-us', eu: 'fed-eu', ap: 'fed-ap' } } },
      hashed: { shards: [...SHARDS], shardKey: { strategy: 'hash' } },
      withdead: { shards: ['fed-us', 'dead'] },
    },
    apiKeys: [
      { id: 'admin', sha256: sha256(KEYS.admin), databases: ['*'], modes: ['READ', 'WRITE'] },
      // one request at a time: shows when a streamed answer gives its slot back
      { id: 'single', sha256: sha256(KEYS.reader), databases: ['fed'], modes: ['READ', 'WRITE'], limits: { maxConcurrent: 1 } },
      // at most 10 rows: a limit passed after a streamed answer is committed
      { id: 'capped', sha256: sha256(KEYS.usOnly), databases: ['fed'], modes: ['READ', 'WRITE'], limits: { maxRows: 10 } },
    ],
    // answers longer than 2 rows are streamed (committed before they end), so every shape below is checked streamed too
    limits: { requestDeadlineMs: 8000, maxBodyBytes: 1048576, maxRows: 100000, queryTimeoutMs: 10000, transactionIdleMs: 30000, streamAfterRows: 2 },
  };
}

async function typed(db: string, statement: string, parameters: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  return query(gw, db, { statement, parameters, accessMode: 'READ' }, { headers: { accept: 'application/vnd.neo4j.query', ...headers } });
}

interface Row {
  id: number;
  g: number | null;
  v: number;
  s: string;
}

async function load(rows: Row[], assignment: number[]): Promise<void> {
  const parts: Record<string, Row[]> = { 'fed-us': [], 'fed-eu': [], 'fed-ap': [], truth: rows };
  rows.forEach((r, i) => parts[SHARDS[assignment[i]! % 3]!]!.push(r));
  await Promise.all(
    Object.entries(parts).map(async ([shard, rs]) => {
      const res = await query(gw, shard, {
        statement: 'MATCH (n:Fed) DETACH DELETE n WITH count(*) AS gone UNWIND $rows AS r CREATE (:Fed {id: r.id, g: r.g, v: r.v, s: r.s})',
        parameters: { rows: rs },
      });
      expect(res.status, res.text).toBe(202);
    }),
  );
}

/** comparable form: floats to 9 significant digits, lists inside rows (collect) sorted */
function norm(v: TypedValue): unknown {
  switch (v.$type) {
    case 'Float':
      return `F${Number(Number(v._value).toPrecision(9))}`;
    case 'Integer':
      return `F${Number(v._value)}`;
    case 'List':
      return v._value
        .map(norm)
        .map((x) => JSON.stringify(x))
        .sort();
    default:
      return canonicalKey(v);
  }
}
const normRows = (values: TypedValue[][]) => values.map((r) => JSON.stringify(r.map(norm)));

async function same(statement: string, truthStatement: string, parameters: Record<string, unknown>, ordered: boolean): Promise<void> {
  const [a, b] = await Promise.all([typed('fed', statement, parameters), typed('truth', truthStatement, parameters)]);
  expect(a.status, `${statement}\n${a.text}`).toBe(202);
  expect(b.status, `${truthStatement}\n${b.text}`).toBe(202);
  const ra = normRows(a.body.data!.values as TypedValue[][]);
  const rb = normRows(b.body.data!.values as TypedValue[][]);
  expect(a.body.data!.fields, statement).toEqual(b.body.data!.fields);
  if (ordered) expect(ra, statement).toEqual(rb);
  else expect([...ra].sort(), statement).toEqual([...rb].sort());
}

const rowArb = fc.record({
  g: fc.option(fc.integer({ min: 0, max: 3 }), { freq: 4 }),
  v: fc.integer({ min: -5, max: 20 }),
  s: fc.constantFrom('a', 'b', 'c', 'd', 'e'),
});
const dataArb = fc.array(fc.tuple(rowArb, fc.nat(2)), { minLength: 0, maxLength: 40, size: 'medium' });

interface Shape {
  name: string;
  /** [statement on the composite, statement on the ground truth, ordered] */
  make: (p: { t: number; skip: number; limit: number; all: boolean }) => [string, string, boolean];
}
const same2 = (q: string, ordered = false): [string, string, boolean] => [q, q, ordered];
const SHAPES: Shape[] = [
  { name: 'concatenation', make: () => same2('MATCH (n:Fed) WHERE n.v >= $t RETURN n.g AS g, n.s AS s') },
  { name: 'RETURN * (columns from the shards)', make: () => same2('MATCH (n:Fed) WHERE n.v >= $t WITH n.id AS id, n.s AS s RETURN *') },
  { name: 'DISTINCT', make: () => same2('MATCH (n:Fed) RETURN DISTINCT n.s AS s, n.g AS g') },
  {
    name: 'ORDER BY + SKIP + LIMIT (pushed down, k-way merged)',
    make: () => same2('MATCH (n:Fed) RETURN n.v AS v, n.s AS s, n.id AS id ORDER BY v DESC, s, id SKIP $skip LIMIT $limit', true),
  },
  {
    name: 'ORDER BY an expression not returned (hidden sort column)',
    make: () => same2('MATCH (n:Fed) RETURN n.s AS s, n.id AS id ORDER BY n.v DESC, n.id SKIP $skip LIMIT $limit', true),
  },
  { name: 'ORDER BY without LIMIT', make: () => same2('MATCH (n:Fed) WHERE n.v < $t RETURN n.id AS id, n.s AS s ORDER BY s DESC, id', true) },
  {
    name: 'grouped aggregates',
    make: () =>
      same2(
        'MATCH (n:Fed) RETURN n.g AS g, count(*) AS c, count(n.g) AS cg, sum(n.v) AS total, min(n.v) AS lo, max(n.s) AS hi, avg(n.v) AS mean, collect(n.s) AS ss',
      ),
  },
  {
    name: 'global aggregates (maybe over no rows)',
    make: () =>
      same2('MATCH (n:Fed) WHERE n.v > $t RETURN count(*) AS c, sum(n.v) AS total, avg(n.v) AS mean, min(n.v) AS lo, max(n.v) AS hi, collect(n.v) AS vs'),
  },
  {
    name: 'aggregates + ORDER BY + LIMIT',
    make: () => same2('MATCH (n:Fed) RETURN n.s AS s, count(*) AS c, sum(n.v) AS total ORDER BY c DESC, s LIMIT $limit', true),
  },
  { name: 'DISTINCT + ORDER BY + SKIP + LIMIT', make: () => same2('MATCH (n:Fed) RETURN DISTINCT n.s AS s ORDER BY s DESC SKIP $skip LIMIT $limit', true) },
  {
    name: 'row-local WITH before RETURN',
    make: () => same2('MATCH (n:Fed) WITH n, n.v * 2 AS dbl WHERE dbl > $t RETURN n.id AS id, dbl ORDER BY dbl, id LIMIT $limit', true),
  },
  {
    name: 'UNION / UNION ALL',
    make: ({ all }) => same2(`MATCH (n:Fed) WHERE n.v < $t RETURN n.s AS s UNION${all ? ' ALL' : ''} MATCH (n:Fed) WHERE n.v > $t RETURN n.s AS s`),
  },
  {
    name: 'graph.names() idiom',
    make: () => [
      'UNWIND graph.names() AS g CALL { USE graph.byName(g) MATCH (n:Fed) WHERE n.v >= $t RETURN n.s AS s, n.v AS v } RETURN s, count(*) AS c, sum(v) AS total',
      'MATCH (n:Fed) WHERE n.v >= $t RETURN n.s AS s, count(*) AS c, sum(n.v) AS total',
      false,
    ],
  },
];

beforeAll(async () => {
  gw = await startTestGateway({ topology: topology() });
});
afterAll(async () => {
  await gw?.stop();
});

describe('federated answers equal the ground truth (property-based)', () => {
  it('for generated data and every supported query shape', async () => {
    await fc.assert(
      fc.asyncProperty(
        dataArb,
        fc.integer({ min: -5, max: 20 }),
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 1, max: 8 }),
        fc.boolean(),
        async (data, t, skip, limit, all) => {
          const rows = data.map(([r], i) => ({ id: i, ...r }));
          await load(
            rows,
            data.map(([, a]) => a),
          );
          for (const shape of SHAPES) {
            const [q, truth, ordered] = shape.make({ t, skip, limit, all });
            await same(q, truth, { t, skip, limit }, ordered);
          }
        },
      ),
      { numRuns: 25 },
    );
  }, 180_000);
});

describe('merges (examples)', () => {
  it('ORDER BY + SKIP + LIMIT when one shard holds all the top rows', async () => {
    const rows = Array.from({ length: 9 }, (_, i) => ({ id: i, g: null, v: 20 - i, s: 'a' }));
    await load(
      rows,
      rows.map((r) => (r.id < 6 ? 0 : r.id % 3)),
    );
    await same(
      'MATCH (n:Fed) RETURN n.v AS v, n.id AS id ORDER BY v DESC, id SKIP 2 LIMIT 3',
      'MATCH (n:Fed) RETURN n.v AS v, n.id AS id ORDER BY v DESC, id SKIP 2 LIMIT 3',
      {},
      true,
    );
  });
});

describe('routing statements of a composite', () => {
  beforeAll(async () => {
    await load(
      [
        { id: 1, g: 1, v: 1, s: 'a' },
        { id: 2, g: 2, v: 2, s: 'b' },
        { id: 3, g: 3, v: 3, s: 'c' },
      ],
      [0, 1, 2],
    );
  });

  it('USE composite.shard runs on that shard alone', async () => {
    const res = await typed('fed', 'USE fed.`fed-eu` MATCH (n:Fed) RETURN n.id AS id');
    expect(res.status, res.text).toBe(202);
    expect(res.body.data!.values).toEqual([[{ $type: 'Integer', _value: '2' }]]);
    expect(res.headers.get('x-gateway-route')).toMatch(/^fed-eu=127\.0\.0\.1:\d+;/);
  });

  it('USE graph.byName($name) and with a literal', async () => {
    const p = await typed('fed', 'USE graph.byName($g) MATCH (n:Fed) RETURN n.id AS id', { g: 'fed.fed-ap' });
    expect(p.body.data!.values).toEqual([[{ $type: 'Integer', _value: '3' }]]);
    const l = await typed('fed', "USE graph.byName('fed.fed-us') MATCH (n:Fed) RETURN n.id AS id");
    expect(l.body.data!.values).toEqual([[{ $type: 'Integer', _value: '1' }]]);
  });

  it('UNION / UNION ALL of parts with different USE targets', async () => {
    const all = await typed(
      'fed',
      'USE fed.`fed-us` MATCH (n:Fed) RETURN n.id AS id UNION ALL USE fed.`fed-ap` MATCH (n:Fed) RETURN n.id AS id UNION ALL USE fed.`fed-ap` MATCH (n:Fed) RETURN n.id AS id',
    );
    expect(all.status, all.text).toBe(202);
    expect((all.body.data!.values as { _value: string }[][]).map((r) => r[0]!._value).sort()).toEqual(['1', '3', '3']);
    const distinct = await typed(
      'fed',
      'USE fed.`fed-us` MATCH (n:Fed) RETURN n.id AS id UNION USE fed.`fed-ap` MATCH (n:Fed) RETURN n.id AS id UNION MATCH (n:Fed) RETURN n.id AS id',
    );
    expect((distinct.body.data!.values as { _value: string }[][]).map((r) => r[0]!._value).sort()).toEqual(['1', '2', '3']);
    expect(distinct.headers.get('x-gateway-route')!.split(', ')).toHaveLength(5);
  });

  it('a UNION on a composite has at most limits.maxUnionParts parts: each may run on every shard', async () => {
    const union = (n: number) => Array.from({ length: n }, (_, i) => `MATCH (n:Fed) RETURN n.id + ${i} AS id`).join(' UNION ALL ');
    const ok = await typed('fed', union(64));
    expect(ok.status, ok.text.slice(0, 300)).toBe(202);
    const refused = await typed('fed', union(65));
    expect(refused.status, refused.text.slice(0, 300)).toBe(400);
    expect(refused.body.errors![0]!.code).toBe('Neo.ClientError.Gateway.StatementTooComplex');
    expect(refused.body.errors![0]!.message).toContain('limits.maxUnionParts');
  });

  it("graph.names() returns the composite's shards", async () => {
    const res = await query(gw, 'fed', { statement: 'RETURN graph.names() AS names' });
    expect(res.body.data!.values).toEqual([[['fed.fed-us', 'fed.fed-eu', 'fed.fed-ap']]]);
  });

  it('a statement without USE fans out to every shard; x-gateway-route lists each', async () => {
    const res = await typed('fed', 'MATCH (n:Fed) RETURN count(*) AS c');
    expect(res.body.data!.values).toEqual([[{ $type: 'Integer', _value: '3' }]]);
    expect(
      res.headers
        .get('x-gateway-route')!
        .split(', ')
        .map((r) => r.split('=')[0])
        .sort(),
    ).toEqual([...SHARDS].sort());
  });

  it('a shard key selects shards (header, or shardKey in the body)', async () => {
    const h = await typed('fed', 'MATCH (n:Fed) RETURN n.id AS id', {}, { 'x-neo4j-shard-key': 'ap' });
    expect(h.body.data!.values).toEqual([[{ $type: 'Integer', _value: '3' }]]);
    expect(h.headers.get('x-gateway-route')).toMatch(/^fed-ap=/);
    const b = await query(gw, 'fed', { statement: 'MATCH (n:Fed) RETURN n.id AS id', shardKey: 'us' });
    expect(b.body.data!.values).toEqual([[1]]);
    const unknown = await query(gw, 'fed', { statement: 'MATCH (n:Fed) RETURN n.id AS id', shardKey: 'mars' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors![0]!.code).toBe('Neo.ClientError.Gateway.UnknownShardKey');
  });

  it('consistent hashing sends a key to one shard, the same one every time', async () => {
    const first = await query(gw, 'hashed', { statement: 'RETURN 1 AS x' }, { headers: { 'x-neo4j-shard-key': 'customer-42' } });
    const again = await query(gw, 'hashed', { statement: 'RETURN 1 AS x' }, { headers: { 'x-neo4j-shard-key': 'customer-42' } });
    expect(first.headers.get('x-gateway-route')!.split(', ')).toHaveLength(1);
    expect(again.headers.get('x-gateway-route')!.split('=')[0]).toBe(first.headers.get('x-gateway-route')!.split('=')[0]);
  });

  it('a write goes to one shard (USE or shard key), with bookmarks covering every shard touched', async () => {
    const w = await query(gw, 'fed', { statement: 'USE fed.`fed-us` CREATE (n:FedWrite {at: timestamp()}) RETURN 1 AS ok' });
    expect(w.status, w.text).toBe(202);
    const k = await query(gw, 'fed', { statement: 'CREATE (n:FedWrite {at: timestamp()}) RETURN 1 AS ok' }, { headers: { 'x-neo4j-shard-key': 'eu' } });
    expect(k.status, k.text).toBe(202);
    // the read carries both writes' bookmarks and returns a token covering all shards it touched
    const r = await query(gw, 'fed', {
      statement: 'MATCH (n:FedWrite) RETURN count(n) AS c',
      accessMode: 'READ',
      bookmarks: [...w.body.bookmarks!, ...k.body.bookmarks!],
    });
    expect(r.status, r.text).toBe(202);
    const token = JSON.parse(Buffer.from(r.body.bookmarks![0]!.slice('n4gw1:'.length), 'base64url').toString()) as Record<string, string[]>;
    expect(Object.keys(token).sort()).toEqual([...SHARDS].sort());
  });
});

describe('refused shapes (never a silently wrong answer)', () => {
  it.each([
    ['a write that would touch several shards', 'CREATE (:Everywhere)', 'Neo.ClientError.Gateway.MultiShardWrite'],
    ['an aggregate inside an expression', 'MATCH (n:Fed) RETURN sum(n.v) + 1 AS s', 'Neo.ClientError.Gateway.FederationNotSupported'],
    ['aggregation in WITH', 'MATCH (n:Fed) WITH n.s AS s, count(*) AS c WHERE c > 1 RETURN s', 'Neo.ClientError.Gateway.FederationNotSupported'],
    // statements Neo4j itself refuses get Neo4j's own error, as one database holding all the data answers
    [
      'DISTINCT with ORDER BY on a column not returned (Neo4j refuses it)',
      'MATCH (n:Fed) RETURN DISTINCT n.s AS s ORDER BY n.v',
      'Neo.ClientError.Statement.SyntaxError',
    ],
    ['USE inside a subquery outside the idiom', 'CALL { USE fed.`fed-us` RETURN 1 AS x } RETURN x', 'Neo.ClientError.Gateway.FederationNotSupported'],
    ['no RETURN (Neo4j refuses it)', 'MATCH (n:Fed) WHERE n.v > 100', 'Neo.ClientError.Statement.SyntaxError'],
  ])('%s', async (_name, statement, code) => {
    const res = await query(gw, 'fed', { statement });
    expect(res.status, res.text).toBe(400);
    expect(res.body.errors![0]!.code).toBe(code);
    expect(res.body.errors![0]!.message.length).toBeGreaterThan(20);
  });

  it("a Cypher syntax error on a composite is Neo4j's own error", async () => {
    const res = await query(gw, 'fed', { statement: 'MATCH (n:Fed RETURN n' });
    expect(res.status).toBe(400);
    expect(res.body.errors![0]!.code).toBe('Neo.ClientError.Statement.SyntaxError');
  });

  it('an explicit transaction on a composite is refused clearly', async () => {
    const res = await fetch(`${gw.url}/db/fed/query/v2/tx`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.admin}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(400);
  });
});

describe('answers longer than limits.streamAfterRows (2 here) are streamed', () => {
  // 30 rows: ids 0-19 on fed-us, 20-28 on fed-eu, 29 on fed-ap
  const rows = Array.from({ length: 30 }, (_, id) => ({ id, g: id % 4, v: id, s: 'abcde'[id % 5]! }));
  beforeAll(async () => {
    await load(
      rows,
      rows.map(({ id }) => (id < 20 ? 0 : id < 29 ? 1 : 2)),
    );
  });

  it('the single database answer, sent as it arrives (chunked, no length known up front)', async () => {
    for (const statement of ['MATCH (n:Fed) RETURN n.id AS id, n.s AS s ORDER BY s DESC, id SKIP 1 LIMIT 25', 'MATCH (n:Fed) RETURN n.id AS id, n.s AS s']) {
      const res = await typed('fed', statement);
      expect(res.status, res.text).toBe(202);
      expect(res.headers.get('content-length')).toBeNull();
      expect(res.headers.get('transfer-encoding')).toBe('chunked');
      expect(res.headers.get('x-gateway-route')!.split(', ')).toHaveLength(3);
      expect(res.body.bookmarks).toHaveLength(1);
      const truth = await typed('truth', statement);
      const ordered = statement.includes('ORDER BY');
      const got = normRows(res.body.data!.values as TypedValue[][]);
      const want = normRows(truth.body.data!.values as TypedValue[][]);
      expect(ordered ? got : [...got].sort(), statement).toEqual(ordered ? want : [...want].sort());
    }
  });

  it('an error after the answer is committed ends the body with errors: the rows so far stand, no bookmarks', async () => {
    // fed-ap's only row divides by zero; the concatenation reads fed-us and fed-eu first
    const res = await typed('fed', 'MATCH (n:Fed) RETURN n.id AS id, 10 / (29 - n.id) AS x');
    expect(res.status, res.text).toBe(202);
    expect(res.body.data!.values).toHaveLength(29);
    expect(res.body.errors).toEqual([expect.objectContaining({ code: 'Neo.ClientError.Statement.ArithmeticError' })]);
    expect(res.body.bookmarks).toBeUndefined();
    // within the window the same failure answers as a buffered answer does: the error, no rows
    const small = await typed('fed', 'MATCH (n:Fed) WHERE n.id >= 28 RETURN n.id AS id, 10 / (29 - n.id) AS x');
    expect(small.status, small.text).toBe(202);
    expect(small.body.data!.values).toEqual([]);
    expect(small.body.errors).toEqual([expect.objectContaining({ code: 'Neo.ClientError.Statement.ArithmeticError' })]);
  });

  it('maxRows passed after the answer is committed ends the body with ResultTooLarge, never a silent cut', async () => {
    const res = await query(gw, 'fed', { statement: 'MATCH (n:Fed) RETURN n.id AS id' }, { key: KEYS.usOnly });
    expect(res.status, res.text).toBe(202);
    expect(res.body.data!.values).toHaveLength(10);
    expect(res.body.errors).toEqual([expect.objectContaining({ code: 'Neo.ClientError.Gateway.ResultTooLarge' })]);
    expect(res.body.bookmarks).toBeUndefined();
    // an answer that ends within the window (2 rows here) is judged whole, as a buffered one
    const small = await query(gw, 'fed', { statement: 'MATCH (n:Fed) WHERE n.id < 11 RETURN n.id AS id LIMIT 2' }, { key: KEYS.usOnly });
    expect(small.status, small.text).toBe(202);
    expect(small.body.data!.values).toHaveLength(2);
  });

  it('a client that goes away stops the shard statements', async () => {
    const controller = new AbortController();
    const res = await fetch(`${gw.url}/db/fed/query/v2`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${KEYS.admin}` },
      body: JSON.stringify({ statement: "MATCH (n:Fed) UNWIND range(1, 2000000) AS i RETURN n.id AS id, i, 'streamed-abort' AS tag" }),
      signal: controller.signal,
    });
    expect(res.status).toBe(202);
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    await reader.cancel().catch(() => undefined);
    // fed-us holds 20 rows: 40 million rows it would stream; once the client is gone, nothing runs
    const running = async () => {
      // asked of fed-us's Neo4j itself (no gateway key may SHOW TRANSACTIONS here)
      const r = await direct('us', {
        statement: 'SHOW TRANSACTIONS YIELD currentQuery WHERE currentQuery CONTAINS $m RETURN count(*) AS n',
        parameters: { m: 'streamed-abort' },
      });
      return Number((r.body.data as { values: number[][] }).values[0]![0]);
    };
    let n = await running();
    for (let i = 0; i < 50 && n > 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      n = await running();
    }
    expect(n).toBe(0);
  });

  it('a client that stops reading holds nothing past the deadline: the shard statements stop, its answer ends with the error', async () => {
    // node:http: a paused response stops reading the socket (fetch would keep buffering)
    const url = new URL(`${gw.url}/db/fed/query/v2`);
    // rows of ~500 bytes: the socket buffers fill long before limits.maxResultBytes (32 MiB) is reached
    const payload = JSON.stringify({
      statement: "MATCH (n:Fed) UNWIND range(1, 2000000) AS i RETURN n.id AS id, i, $pad AS pad, 'streamed-stall' AS tag",
      parameters: { pad: 'x'.repeat(500) },
    });
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpRequest(
        url,
        { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${KEYS.reader}` } },
        resolve,
      );
      req.on('error', reject);
      req.end(payload);
    });
    expect(res.statusCode).toBe(202);
    res.pause();
    // the key's one slot is taken while the answer runs
    const busy = await query(gw, 'fed', { statement: 'RETURN 1 AS x' }, { key: KEYS.reader });
    expect(busy.status).toBe(429);
    // no reads: past the deadline (8 s here) and its grace (1 s), the gateway ends the answer and
    // gives the slot back, though the client has read nothing more
    await new Promise((r) => setTimeout(r, 10_500));
    const free = await query(gw, 'fed', { statement: 'RETURN 1 AS x' }, { key: KEYS.reader });
    expect(free.status, free.text).toBe(202);
    // reading now: the rows it had not read, then the error, in a well-formed body
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    const ended = new Promise((r) => res.on('end', r));
    res.resume();
    await ended;
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { data: { values: unknown[] }; errors?: { code: string }[]; bookmarks?: unknown };
    expect(body.errors).toEqual([expect.objectContaining({ code: 'Neo.TransientError.Gateway.DeadlineExceeded' })]);
    expect(body.data.values.length).toBeGreaterThan(0);
    expect(body.bookmarks).toBeUndefined();
    const r = await direct('us', {
      statement: 'SHOW TRANSACTIONS YIELD currentQuery WHERE currentQuery CONTAINS $m RETURN count(*) AS n',
      parameters: { m: 'streamed-stall' },
    });
    expect((r.body.data as { values: number[][] }).values[0]![0]).toBe(0);
  }, 30_000);
});

describe('partial results', () => {
  beforeAll(async () => {
    // fed-us holds id 1 (withdead: fed-us and a shard whose cluster cannot be reached)
    await load(
      [
        { id: 1, g: 1, v: 1, s: 'a' },
        { id: 2, g: 2, v: 2, s: 'b' },
      ],
      [0, 1],
    );
  });

  it('one failed shard fails the request by default', async () => {
    const res = await query(gw, 'withdead', { statement: 'MATCH (n:Fed) RETURN count(*) AS c', accessMode: 'READ' });
    expect(res.status).toBe(503);
  });

  it("x-gateway-partial: allow returns the healthy shards' rows and names the missing ones", async () => {
    const res = await query(
      gw,
      'withdead',
      { statement: 'MATCH (n:Fed) RETURN n.id AS id', accessMode: 'READ' },
      { headers: { 'x-gateway-partial': 'allow' } },
    );
    expect(res.status, res.text).toBe(202);
    expect(res.body.data!.values).toEqual([[1]]);
    expect(res.headers.get('x-gateway-missing-shards')).toBe('dead');
    expect((res.body as { gateway?: { missingShards: { shard: string; code: string }[] } }).gateway!.missingShards[0]).toMatchObject({
      shard: 'dead',
      code: 'Neo.TransientError.General.DatabaseUnavailable',
    });
  });
});
