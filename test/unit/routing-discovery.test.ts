/** Discovery against a scripted transport: router order, final errors, and what a client is told. */
import { describe, expect, it } from 'vitest';
import { parseTopology } from '../../src/config/load.js';
import { Codes, GatewayError } from '../../src/errors/index.js';
import { Discovery } from '../../src/routing/discovery.js';
import type { RoutingTableData, Transport } from '../../src/transport/types.js';

const topology = parseTopology({
  regions: { r: { lat: 0, lon: 0 } },
  defaultRegion: 'r',
  clusters: {
    c1: {
      routers: ['neo4j://s1:7687', 'neo4j+s://s2:7687/'],
      auth: { user: 'neo4j', passwordEnv: 'PW' },
      routingContext: { policy: 'eu' },
    },
  },
  shards: {},
});

const table = (database: string): RoutingTableData => ({ database, ttlSeconds: 300, writers: ['w:7687'], readers: ['r:7687'], routers: ['s1:7687'] });

/** A transport whose routers answer as scripted (absent: a table), recording whom it asked. */
function transport(answers: Record<string, Error>): Pick<Transport, 'fetchRoutingTable'> & { asked: string[]; contexts: unknown[] } {
  const asked: string[] = [];
  const contexts: unknown[] = [];
  return {
    asked,
    contexts,
    fetchRoutingTable(_cluster, router, database, context) {
      asked.push(router);
      contexts.push(context);
      const err = answers[router];
      return err ? Promise.reject(err) : Promise.resolve(table(database));
    },
  };
}

const unavailable = (router: string) => new GatewayError(Codes.DatabaseUnavailable, `Could not reach ${router}.`, { notSent: true });

describe('discovery', () => {
  it('asks the routers it knows first, then the seeds (once each), with the routing context', async () => {
    const t = transport({ 'k1:7687': unavailable('k1'), 's1:7687': unavailable('s1') });
    const d = new Discovery(topology, t);
    expect(await d.discover('c1', 'neo4j', ['k1:7687', 's1:7687'])).toEqual(table('neo4j'));
    expect(t.asked).toEqual(['k1:7687', 's1:7687', 's2:7687']);
    expect(t.contexts).toEqual([{ policy: 'eu' }, { policy: 'eu' }, { policy: 'eu' }]);
    expect(d.requests).toBe(3);
    // the first router that answers ends the search
    const ok = transport({});
    expect(await new Discovery(topology, ok).discover('c1', 'neo4j')).toEqual(table('neo4j'));
    expect(ok.asked).toEqual(['s1:7687']);
  });

  it('an unknown database is final: no other router is asked', async () => {
    const notFound = new GatewayError(Codes.DatabaseNotFound, "Database does not exist. Database name: 'nope'.");
    const t = transport({ 's1:7687': notFound });
    await expect(new Discovery(topology, t).discover('c1', 'nope')).rejects.toBe(notFound);
    expect(t.asked).toEqual(['s1:7687']);
  });

  it('a failed authentication stops the search and is told as an unavailable database', async () => {
    const denied = new GatewayError(Codes.Unauthorized, 'The client is unauthorized due to authentication failure.');
    const t = transport({ 's1:7687': denied });
    const err = await new Discovery(topology, t).discover('c1', 'neo4j').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect(err).toMatchObject({ code: Codes.DatabaseUnavailable, status: 503, message: "The gateway could not authenticate to cluster 'c1'.", cause: denied });
    expect(t.asked).toEqual(['s1:7687']);
  });

  it('when no router answers: DatabaseUnavailable, retryable, after asking every one', async () => {
    const last = unavailable('s2');
    const t = transport({ 's1:7687': unavailable('s1'), 's2:7687': last });
    const err = await new Discovery(topology, t).discover('c1', 'neo4j').catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: Codes.DatabaseUnavailable,
      status: 503,
      retryable: true,
      message: "No router of cluster 'c1' answered with a routing table for 'neo4j'.",
      cause: last,
    });
    expect(t.asked).toEqual(['s1:7687', 's2:7687']);
  });

  it("an unknown cluster is the gateway's own error", async () => {
    await expect(new Discovery(topology, transport({})).discover('c9', 'neo4j')).rejects.toMatchObject({
      code: Codes.Internal,
      message: 'Unknown cluster c9.',
    });
  });
});
