/**
 * Neo4j's own Query API client (@neo4j-labs/experimental-query-api-wrapper), unmodified, pointed
 * at the gateway: discovery, auto-commit runs, typed values both ways, explicit transactions
 * (executeRead / executeWrite), bookmarks, errors.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RunningGateway } from '../../src/adapters/node/server.js';
import { KEYS, startTestGateway } from '../support/fixture.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- the wrapper bundle is untyped JavaScript */
let gw: RunningGateway;
let neo4j: any;
let wrapper: any;

beforeAll(async () => {
  gw = await startTestGateway();
  neo4j = (await import(inject('wrapperBundle'))).default;
  wrapper = neo4j.wrapper(gw.url, neo4j.auth.bearer(KEYS.admin));
});
afterAll(async () => {
  await wrapper?.close();
  await gw?.stop();
});

describe('an unmodified Query API client', () => {
  it('verifies connectivity through the discovery document', async () => {
    await expect(wrapper.verifyConnectivity({ database: 'users-us' })).resolves.toBeDefined();
  });

  it('runs auto-commit statements with typed parameters and results', async () => {
    const session = wrapper.session({ database: 'users-us' });
    try {
      const res = await session.run('RETURN $i AS i, $f AS f, $s AS s, $l AS l, $d AS d, $p AS p, date($ds) AS date', {
        i: neo4j.int(9007199254740993n.toString()),
        f: 1.5,
        s: 'héllo',
        l: [1, 'two'],
        d: new neo4j.types.Duration(1, 2, 3, 4),
        p: new neo4j.types.Point(7203, 1.5, 2.5),
        ds: '2024-02-29',
      });
      const rec = res.records[0];
      expect(rec.get('i').toString()).toBe('9007199254740993');
      expect(rec.get('f')).toBe(1.5);
      expect(rec.get('s')).toBe('héllo');
      expect(rec.get('l')).toEqual([1, 'two']);
      expect(rec.get('d').toString()).toBe(new neo4j.types.Duration(1, 2, 3, 4).toString());
      expect(rec.get('p').x).toBe(1.5);
      expect(rec.get('date').toString()).toBe('2024-02-29');
    } finally {
      await session.close();
    }
  });

  it('writes with executeWrite (explicit transaction) and reads them back with the bookmarks', async () => {
    const marker = `m-${Date.now()}-${Math.random()}`;
    const writer = wrapper.session({ database: 'users-eu' });
    let bookmarks: unknown;
    try {
      const created = await writer.executeWrite(async (tx: any) => {
        const r = await tx.run('CREATE (n:ClientTest {marker: $marker}) RETURN n', { marker });
        return r.records[0].get('n');
      });
      expect(created.labels).toEqual(['ClientTest']);
      expect(created.properties.marker).toBe(marker);
      bookmarks = writer.lastBookmarks();
    } finally {
      await writer.close();
    }
    expect(Array.isArray(bookmarks) && (bookmarks as string[]).length).toBeTruthy();
    const reader = wrapper.session({ database: 'users-eu', defaultAccessMode: neo4j.session.READ, bookmarks });
    try {
      const n = await reader.executeRead(async (tx: any) =>
        (await tx.run('MATCH (n:ClientTest {marker: $marker}) RETURN count(n) AS c', { marker })).records[0].get('c'),
      );
      expect(Number(n)).toBe(1);
    } finally {
      await reader.close();
    }
  });

  it('rolls back an explicit transaction that throws', async () => {
    const marker = `rb-${Date.now()}`;
    const session = wrapper.session({ database: 'users-us' });
    try {
      await expect(
        session.executeWrite(async (tx: any) => {
          await tx.run('CREATE (:RollbackTest {marker: $marker})', { marker });
          throw new Error('application failure');
        }),
      ).rejects.toThrow('application failure');
      const c = await session.run('MATCH (n:RollbackTest {marker: $marker}) RETURN count(n) AS c', { marker });
      expect(Number(c.records[0].get('c'))).toBe(0);
    } finally {
      await session.close();
    }
  });

  it('reports counters in the summary', async () => {
    const session = wrapper.session({ database: 'users-us' });
    try {
      const res = await session.run('CREATE (n:CounterTest) DELETE n');
      expect(res.summary.counters.updates().nodesCreated).toBe(1);
      expect(res.summary.counters.updates().nodesDeleted).toBe(1);
    } finally {
      await session.close();
    }
  });

  it('surfaces Neo4j errors with their codes', async () => {
    const session = wrapper.session({ database: 'users-us' });
    try {
      await expect(session.run('RETURN 1 +')).rejects.toMatchObject({ code: 'Neo.ClientError.Statement.SyntaxError' });
    } finally {
      await session.close();
    }
  });

  it('is refused with a wrong key', async () => {
    const bad = neo4j.wrapper(gw.url, neo4j.auth.bearer('wrong-key'));
    const session = bad.session({ database: 'users-us' });
    try {
      await expect(session.run('RETURN 1')).rejects.toMatchObject({ code: 'Neo.ClientError.Security.Unauthorized' });
    } finally {
      await session.close();
      await bad.close();
    }
  });

  it('works with basic auth (key id and key)', async () => {
    const basic = neo4j.wrapper(gw.url, neo4j.auth.basic('admin', KEYS.admin));
    try {
      const { records } = await basic.executeQuery('RETURN 40 + 2 AS answer', {}, { database: 'users-us' });
      expect(Number(records[0].get('answer'))).toBe(42);
    } finally {
      await basic.close();
    }
  });
});
