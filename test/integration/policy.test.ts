/**
 * The per-key statement policy (issue 9), attack by attack, through the public REST interface
 * against real Neo4j: every statement is understood before it runs, a key runs only what its
 * modes and capabilities ("allow") grant, USE resolves through the topology, and refusals are
 * 403/404/400 answers that leave Neo4j untouched (checked on Neo4j itself).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RunningGateway } from '../../src/adapters/node/server.js';
import { KEYS, direct, query, sandboxTopology, sha256, startTestGateway } from '../support/fixture.js';

const K = {
  ...KEYS,
  writer: 'policy-writer-key-0123456789',
  schema: 'policy-schema-key-0123456789',
  show: 'policy-show-key-0123456789',
  csv: 'policy-csv-key-0123456789',
  proc: 'policy-proc-key-0123456789',
  boss: 'policy-boss-key-0123456789',
};

let gw: RunningGateway;
let web: Server;
let webHits = 0;

beforeAll(async () => {
  const base = sandboxTopology();
  gw = await startTestGateway({
    topology: {
      ...base,
      apiKeys: [
        ...base.apiKeys!,
        { id: 'writer', sha256: sha256(K.writer), databases: ['*'], modes: ['READ', 'WRITE'] },
        { id: 'schema', sha256: sha256(K.schema), databases: ['*'], modes: ['READ', 'WRITE'], allow: ['schema'] },
        { id: 'show', sha256: sha256(K.show), databases: ['*'], modes: ['READ'], allow: ['show'] },
        { id: 'csv', sha256: sha256(K.csv), databases: ['*'], modes: ['READ'], allow: ['loadCsv'] },
        { id: 'proc', sha256: sha256(K.proc), databases: ['*'], modes: ['READ', 'WRITE'], allow: ['procedures:db.createLabel', 'procedures:apoc.util.*'] },
        { id: 'boss', sha256: sha256(K.boss), databases: ['*'], modes: ['READ', 'WRITE'], allow: ['admin'] },
      ],
    },
  });
  // an internal URL LOAD CSV must never make Neo4j fetch for a key without the capability
  web = createServer((_req, res) => {
    webHits++;
    res.end('a,b\n1,2\n');
  });
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
});

afterAll(async () => {
  await direct('us', { statement: 'MATCH (n:PolicyProbe) DETACH DELETE n' });
  // a regression must not leave a Neo4j login behind
  const { instances, password } = inject('sandbox');
  await fetch(`${instances.us!.httpUri}/db/system/query/v2`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Basic ${btoa(`neo4j:${password}`)}` },
    body: JSON.stringify({ statement: 'DROP USER mallory IF EXISTS' }),
  });
  await gw?.stop();
  await new Promise<void>((r) => web?.close(() => r()));
});

async function refused(db: string, statement: string, key: string, status: number, code: string, extra: Record<string, unknown> = {}) {
  const res = await query(gw, db, { statement, ...extra }, { key });
  expect(res.status, `${statement}: ${res.text}`).toBe(status);
  expect(res.body.errors?.[0]?.code, res.text).toBe(code);
  return res;
}

const FORBIDDEN = 'Neo.ClientError.Security.Forbidden';

describe('administration and SHOW need capabilities', () => {
  it('a key scoped to one shard cannot create a Neo4j user (a login that bypasses the gateway)', async () => {
    const res = await refused('users-us', "CREATE USER mallory SET PASSWORD 'mallory-password-1' CHANGE NOT REQUIRED", KEYS.usOnly, 403, FORBIDDEN);
    expect(res.body.errors![0]!.message).toMatch(/admin/);
    const users = await direct('us', { statement: 'SHOW USERS YIELD user RETURN collect(user) AS users' });
    expect(JSON.stringify(users.body)).not.toContain('mallory');
  });

  it.each([
    'SHOW USERS',
    'SHOW DATABASES',
    'SHOW SETTINGS',
    'SHOW TRANSACTIONS YIELD currentQuery, parameters',
    "TERMINATE TRANSACTIONS 'neo4j-transaction-1'",
    'CALL dbms.components()',
    'CALL dbms.listConfig()',
    'SHOW ROLES',
  ])('a READ key is refused: %s', async (statement) => {
    await refused('users-us', statement, KEYS.reader, 403, FORBIDDEN, { accessMode: 'READ' });
  });

  it('SHOW INDEXES needs "show"; administration stays refused for that key', async () => {
    await refused('users-us', 'SHOW INDEXES', K.writer, 403, FORBIDDEN);
    const ok = await query(gw, 'users-us', { statement: 'SHOW INDEXES YIELD name RETURN count(*) AS n', accessMode: 'READ' }, { key: K.show });
    expect(ok.status, ok.text).toBe(202);
    await refused('users-us', 'SHOW USERS', K.show, 403, FORBIDDEN, { accessMode: 'READ' });
    await refused('users-us', 'SHOW TRANSACTIONS', K.show, 403, FORBIDDEN, { accessMode: 'READ' });
  });

  it('schema commands need "schema"', async () => {
    await refused('users-us', 'CREATE INDEX policy_probe IF NOT EXISTS FOR (n:PolicyProbe) ON (n.x)', K.writer, 403, FORBIDDEN);
    const ok = await query(gw, 'users-us', { statement: 'CREATE INDEX policy_probe IF NOT EXISTS FOR (n:PolicyProbe) ON (n.x)' }, { key: K.schema });
    expect(ok.status, ok.text).toBe(202);
    const drop = await query(gw, 'users-us', { statement: 'DROP INDEX policy_probe IF EXISTS' }, { key: K.schema });
    expect(drop.status, drop.text).toBe(202);
  });

  it('an admin key may run administration', async () => {
    const res = await query(gw, 'users-us', { statement: 'SHOW USERS YIELD user RETURN count(*) AS n' }, { key: K.boss });
    expect(res.status, res.text).toBe(202);
  });
});

describe('USE resolves through the topology, never raw', () => {
  it('USE system is a 404 and never reaches Neo4j', async () => {
    await refused('users-us', 'USE system RETURN 1 AS one', K.boss, 404, 'Neo.ClientError.Database.DatabaseNotFound');
    await refused('users-us', 'USE system SHOW USERS', K.boss, 404, 'Neo.ClientError.Database.DatabaseNotFound');
  });

  it('USE may only name the shard the request is sent to', async () => {
    await refused('users-us', 'USE `users-eu` RETURN 1 AS one', K.writer, 400, 'Neo.ClientError.Gateway.UseNotAllowed');
    await refused('users-us', 'CALL { USE `users-us` RETURN 1 AS one } RETURN one', K.writer, 400, 'Neo.ClientError.Gateway.UseNotAllowed');
    const ok = await query(gw, 'users-us', { statement: 'USE `users-us` RETURN 1 AS one', accessMode: 'READ' }, { key: K.writer });
    expect(ok.status, ok.text).toBe(202);
    expect(ok.body.data?.values).toEqual([[1]]);
  });
});

describe('LOAD CSV, procedures, functions', () => {
  it('LOAD CSV needs "loadCsv": no file of the server, no internal URL fetched', async () => {
    await refused('users-us', "LOAD CSV FROM 'file:///etc/passwd' AS row RETURN row", K.writer, 403, FORBIDDEN, { accessMode: 'READ' });
    const url = `http://127.0.0.1:${(web.address() as AddressInfo).port}/data.csv`;
    await refused('users-us', `LOAD CSV FROM '${url}' AS row RETURN row`, K.writer, 403, FORBIDDEN, { accessMode: 'READ' });
    await refused('users-us', 'LOAD CSV FROM $u AS row RETURN row', KEYS.reader, 403, FORBIDDEN, { accessMode: 'READ', parameters: { u: url } });
    expect(webHits).toBe(0);
    // granted: the gateway forwards it (what Neo4j then allows is Neo4j's own configuration)
    const ok = await query(gw, 'users-us', { statement: `LOAD CSV FROM '${url}' AS row RETURN row`, accessMode: 'READ' }, { key: K.csv });
    expect(ok.status, ok.text).not.toBe(403);
  });

  it('procedures outside the read-only allow-list need a grant; dbms.* needs admin', async () => {
    const labels = await query(
      gw,
      'users-us',
      { statement: 'CALL db.labels() YIELD label RETURN count(label) AS n', accessMode: 'READ' },
      { key: KEYS.reader },
    );
    expect(labels.status, labels.text).toBe(202);
    await refused('users-us', "CALL db.createLabel('PolicyEvil')", K.writer, 403, FORBIDDEN);
    const granted = await query(gw, 'users-us', { statement: "CALL db.createLabel('PolicyProbe')" }, { key: K.proc });
    expect(granted.status, granted.text).toBe(202);
    await refused('users-us', 'CALL dbms.components()', K.proc, 403, FORBIDDEN);
    await refused('users-us', 'CALL db.stats.retrieve("GRAPH COUNTS")', K.writer, 403, FORBIDDEN);
  });

  it('a grant by name pattern lets a key call a third-party procedure (APOC), and nothing else', async () => {
    await refused('users-us', 'CALL apoc.util.sleep(1)', K.writer, 403, FORBIDDEN, { accessMode: 'READ' });
    await refused('users-us', 'CALL apoc.util.sleep(1)', KEYS.reader, 403, FORBIDDEN, { accessMode: 'READ' });
    const ok = await query(gw, 'users-us', { statement: 'CALL apoc.util.sleep(1) RETURN 1 AS one', accessMode: 'READ' }, { key: K.proc });
    expect(ok.status, ok.text).toBe(202);
    expect(ok.body.data?.values).toEqual([[1]]);
    // the pattern is a name pattern: apoc.util.* does not reach other namespaces
    await refused('users-us', "CALL db.createProperty('PolicyEvil')", K.proc, 403, FORBIDDEN);
    // on a composite a procedure's result cannot be combined: refused, not run per shard
    const composite = await query(gw, 'users', { statement: 'CALL apoc.util.sleep(1) RETURN 1 AS one', accessMode: 'READ' }, { key: K.proc });
    expect(composite.status, composite.text).toBe(400);
    expect(composite.body.errors?.[0]?.code, composite.text).toBe('Neo.ClientError.Gateway.FederationNotSupported');
  });

  it('user-defined functions need a grant too', async () => {
    await refused('users-us', "RETURN apoc.text.join(['a', 'b'], '-') AS s", K.writer, 403, FORBIDDEN, { accessMode: 'READ' });
  });

  it('impersonatedUser needs "impersonate"', async () => {
    await refused('users-us', 'RETURN 1 AS one', K.writer, 403, FORBIDDEN, { impersonatedUser: 'neo4j' });
  });
});

describe('reads and writes', () => {
  it('a READ key cannot write on a shard, not even by EXPLAIN or a subquery', async () => {
    await refused('users-us', 'CREATE (:PolicyProbe {by: "reader"})', KEYS.reader, 403, FORBIDDEN, { accessMode: 'READ' });
    await refused('users-us', 'EXPLAIN CREATE (:PolicyProbe {by: "reader"})', KEYS.reader, 403, FORBIDDEN, { accessMode: 'READ' });
    await refused('users-us', 'CALL { CREATE (:PolicyProbe {by: "reader"}) } IN TRANSACTIONS', KEYS.reader, 403, FORBIDDEN, { accessMode: 'READ' });
    await refused('users-us', 'MATCH (n) WITH n LIMIT 1 SET n.owned = true', KEYS.reader, 403, FORBIDDEN, { accessMode: 'READ' });
    const count = await direct('us', { statement: 'MATCH (n:PolicyProbe {by: "reader"}) RETURN count(n) AS n' });
    expect((count.body as { data: { values: number[][] } }).data.values[0]![0]).toBe(0);
  });

  it('a write sent as READ runs in Neo4j READ mode: Neo4j refuses it', async () => {
    const res = await query(gw, 'users-us', { statement: 'CREATE (:PolicyProbe {by: "read-mode"})', accessMode: 'READ' }, { key: K.writer });
    expect(res.status, res.text).toBeGreaterThanOrEqual(400);
    const count = await direct('us', { statement: 'MATCH (n:PolicyProbe {by: "read-mode"}) RETURN count(n) AS n' });
    expect((count.body as { data: { values: number[][] } }).data.values[0]![0]).toBe(0);
  });

  it('statements inside an explicit transaction pass the same gate; a refusal leaves the transaction open', async () => {
    const begin = await fetch(`${gw.url}/db/users-us/query/v2/tx`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEYS.reader}` },
      body: JSON.stringify({ accessMode: 'READ' }),
    });
    expect(begin.status).toBe(202);
    const { transaction } = (await begin.json()) as { transaction: { id: string } };
    const run = (statement: string) =>
      fetch(`${gw.url}/db/users-us/query/v2/tx/${transaction.id}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${KEYS.reader}` },
        body: JSON.stringify({ statement }),
      });
    expect((await run('CREATE (:PolicyProbe {by: "tx"})')).status).toBe(403);
    expect((await run('SHOW USERS')).status).toBe(403);
    const ok = await run('RETURN 1 AS one');
    expect(ok.status).toBe(202);
    await fetch(`${gw.url}/db/users-us/query/v2/tx/${transaction.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${KEYS.reader}` } });
  });
});

describe('statements the gateway does not understand are not forwarded', () => {
  it("a syntax error is Neo4j's own (EXPLAIN words it; nothing runs)", async () => {
    const res = await refused('users-us', 'MATCH (n RETURN n', K.writer, 400, 'Neo.ClientError.Statement.SyntaxError');
    expect(res.body.errors![0]!.message).toMatch(/line 1/);
  });

  it('a lexical error Neo4j answers as a DatabaseError is a 400 syntax error here', async () => {
    await refused('users-us', '/* \u0000', K.writer, 400, 'Neo.ClientError.Statement.SyntaxError');
  });

  it('console commands and several statements are refused', async () => {
    const res = await query(gw, 'users-us', { statement: ':param x => 1' }, { key: K.writer });
    expect(res.status).toBe(400);
    const two = await query(gw, 'users-us', { statement: 'RETURN 1; CREATE (:PolicyProbe {by: "second"})' }, { key: K.writer });
    expect(two.status).toBe(400);
    const count = await direct('us', { statement: 'MATCH (n:PolicyProbe {by: "second"}) RETURN count(n) AS n' });
    expect((count.body as { data: { values: number[][] } }).data.values[0]![0]).toBe(0);
  });

  it('a trailing semicolon is fine', async () => {
    const res = await query(gw, 'users-us', { statement: 'RETURN 1 AS one;', accessMode: 'READ' }, { key: K.writer });
    expect(res.status, res.text).toBe(202);
  });

  it('a statement longer than limits.maxStatementBytes is a 413 before any parse; a pathological one a 400', async () => {
    const long = `RETURN '${'x'.repeat(70_000)}' AS s`;
    await refused('users-us', long, K.writer, 413, 'Neo.ClientError.Gateway.StatementTooLarge');
    const deep = `RETURN ${'('.repeat(5000)}1${')'.repeat(5000)} AS s`;
    await refused('users-us', deep, K.writer, 400, 'Neo.ClientError.Gateway.StatementTooComplex');
  });
});
