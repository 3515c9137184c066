/**
 * The wire between a Worker and its Bolt pool objects (src/adapters/worker/pool-rpc.ts): errors
 * cross as data, RPC's own refusals map to the right codes. The namespace below stands in for
 * workerd's only in what RPC does to values (structuredClone); the pool objects themselves run
 * against real Neo4j in test/integration/worker.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { Codes, GatewayError } from '../../src/errors/index.js';
import { pooledBolt, settle, type BoltPoolRpc } from '../../src/adapters/worker/pool-rpc.js';
import type { RunRequest, RunResult } from '../../src/transport/types.js';

const MEMBER = { cluster: 'c', address: '10.0.0.1:7687' };
const REQUEST: RunRequest = { database: 'neo4j', statement: 'RETURN 1', parameters: {}, accessMode: 'READ', bookmarks: [], maxRows: 10 };
const RESULT: RunResult = { fields: ['x'], values: [[{ $type: 'Integer', _value: '1' }]], bookmarks: ['b'], counters: {}, notifications: [] };

/** a namespace whose objects run `object` and whose calls pass values as RPC does (structured clone); records the names used */
function namespace(object: () => Promise<RunResult>, fail?: Error) {
  const names: string[] = [];
  const rpc: BoltPoolRpc = {
    run: async () => {
      if (fail) throw fail;
      return structuredClone(await settle(object));
    },
    fetchRoutingTable: async () => structuredClone(await settle(async () => ({ database: 'neo4j', ttlSeconds: 1, writers: [], readers: [], routers: [] }))),
  };
  return {
    names,
    ns: {
      idFromName: (name: string) => {
        names.push(name);
        return name;
      },
      get: () => rpc,
    },
  };
}

async function thrown(p: Promise<unknown>): Promise<GatewayError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    return err as GatewayError;
  }
  throw new Error('expected a GatewayError');
}

describe('the Bolt pool wire', () => {
  it('carries a result as it is', async () => {
    const { ns } = namespace(async () => RESULT);
    expect(await pooledBolt(ns, 4).run(MEMBER, REQUEST)).toEqual(RESULT);
  });

  it('carries a GatewayError whole: code, message, status, retryable, notSent, headers, refused', async () => {
    const original = new GatewayError(Codes.RateLimited, 'slow down', { notSent: true, headers: { 'retry-after': '2' }, refused: { limit: 'rate' } });
    const { ns } = namespace(async () => {
      throw original;
    });
    const err = await thrown(pooledBolt(ns, 4).run(MEMBER, REQUEST));
    expect({ ...err, message: err.message }).toEqual({ ...original, message: original.message, cause: undefined });
    expect([err.code, err.status, err.retryable, err.notSent, err.headers, err.refused]).toEqual([
      Codes.RateLimited,
      original.status,
      true,
      true,
      { 'retry-after': '2' },
      { limit: 'rate' },
    ]);
  });

  it('sends anything else as Internal, without its text', async () => {
    const { ns } = namespace(async () => {
      throw new TypeError('secret internals');
    });
    const err = await thrown(pooledBolt(ns, 4).run(MEMBER, REQUEST));
    expect(err.code).toBe(Codes.Internal);
    expect(err.message).not.toContain('secret');
  });

  it("RPC's size refusal is ResultTooLarge (not retried); an object that does not answer is a member failure whose sending is unknown", async () => {
    const big = await thrown(
      pooledBolt(
        namespace(
          async () => RESULT,
          new Error('Serialized RPC arguments or return values are limited to 32MiB, but the size of this value was: 34603181 bytes.'),
        ).ns,
        4,
      ).run(MEMBER, REQUEST),
    );
    expect([big.code, big.retryable]).toEqual([Codes.ResultTooLarge, false]);
    const gone = await thrown(
      pooledBolt(namespace(async () => RESULT, new Error('Durable Object reset because its code was updated.')).ns, 4).run(MEMBER, REQUEST),
    );
    expect([gone.code, gone.retryable, gone.notSent]).toEqual([Codes.DatabaseUnavailable, true, false]);
    expect(gone.message).toContain(MEMBER.address);
  });

  it("spreads a member's statements over its objects, and only over those", async () => {
    const { ns, names } = namespace(async () => RESULT);
    const transport = pooledBolt(ns, 3);
    for (let i = 0; i < 200; i++) await transport.run(MEMBER, REQUEST);
    await transport.fetchRoutingTable('c', '10.0.0.9:7687', 'neo4j', {});
    // ids are made once per object name
    expect(new Set(names).size).toBe(names.length);
    expect(names.filter((n) => n.startsWith('c\n10.0.0.1:7687\n')).sort()).toEqual(['c\n10.0.0.1:7687\n0', 'c\n10.0.0.1:7687\n1', 'c\n10.0.0.1:7687\n2']);
    expect(names.filter((n) => /^c\n10\.0\.0\.9:7687\n[012]$/.test(n))).toHaveLength(1);
  });
});
