/** GraphQL errors: what the client sees of an unexpected error (nothing), and what the gateway's log is told (the error). */
import { describe, expect, it } from 'vitest';
import { parseTopology } from '../../src/config/load.js';
import { StatementAnalyzer } from '../../src/cypher/analyzer.js';
import { GatewayError, Codes } from '../../src/errors/index.js';
import { createGraphQL } from '../../src/graphql/server.js';
import type { StatementRunner } from '../../src/graphql/schema.js';

const topology = parseTopology({
  regions: { r: { lat: 0, lon: 0 } },
  defaultRegion: 'r',
  clusters: { c: { routers: ['neo4j://127.0.0.1:7687'], auth: { user: 'neo4j', passwordEnv: 'P' } } },
  shards: { s: { cluster: 'c', database: 'neo4j' } },
  apiKeys: [{ id: 'k', sha256: '0'.repeat(64), databases: ['*'] }],
});
const SDL = 'type Query { n: Int @cypher(statement: "RETURN 1 AS n", database: "s") }';

async function ask(fail: Error): Promise<{ body: { errors?: { message: string }[] }; told: unknown[] }> {
  const told: unknown[] = [];
  const runner: StatementRunner = {
    root: () => Promise.reject(fail),
    batch: () => Promise.reject(fail),
  };
  const analyzer = new StatementAnalyzer({ maxStatementBytes: 65536, parseBudgetMs: 1000, cacheEntries: 100, cacheBytes: 1 << 20 });
  const { yoga, newBatcher } = await createGraphQL(topology, SDL, analyzer, runner, (err) => told.push(err));
  const res = await yoga.fetch(
    new Request('http://gw/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ n }' }) }),
    { gw: {}, batcher: newBatcher({}) },
  );
  return { body: (await res.json()) as { errors?: { message: string }[] }, told };
}

describe('GraphQL errors', () => {
  it('an unexpected error reaches the log whole and the client as "Unexpected error." only', async () => {
    const secret = new Error('connection to 10.0.0.7 with password hunter2 failed');
    const { body, told } = await ask(secret);
    expect(body.errors?.[0]?.message).toBe('Unexpected error.');
    expect(JSON.stringify(body)).not.toContain('hunter2');
    expect(told).toEqual([secret]);
  });

  it("a client error (a GraphQLError with the gateway's code) is the client's to see, and not logged as unexpected", async () => {
    const { GraphQLError } = await import('graphql');
    const { body, told } = await ask(new GraphQLError('API key may not run it.', { extensions: { code: new GatewayError(Codes.Forbidden, 'x').code } }));
    expect(body.errors?.[0]?.message).toBe('API key may not run it.');
    expect(told).toEqual([]);
  });
});
