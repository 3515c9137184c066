/** The Worker's bindings (src/adapters/worker/bindings.ts): the transport and the Bolt pool's object count, as data. */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/load.js';
import { configure, DEFAULT_BOLT_POOL_OBJECTS, type WorkerEnv } from '../../src/adapters/worker/bindings.js';

const TOPOLOGY = JSON.stringify({
  regions: { r: { lat: 0, lon: 0 } },
  defaultRegion: 'r',
  clusters: { c: { routers: ['neo4j://127.0.0.1:7687'], auth: { user: 'neo4j', passwordEnv: 'P' } } },
  shards: { s: { cluster: 'c', database: 'neo4j' } },
});
const NAMESPACE = { idFromName: (name: string) => name, get: (id: unknown) => id };

// a fresh bindings object each time (configure() remembers one per object)
const env = (extra: Record<string, unknown>): WorkerEnv => ({
  GATEWAY_CONFIG: TOPOLOGY,
  P: 'password',
  GATEWAY_SECRET: 'a-fleet-secret-of-enough-length-0123456789',
  BOLT_POOL: NAMESPACE,
  ...extra,
});

function problems(e: WorkerEnv): string[] {
  try {
    configure(e);
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems;
  }
}

const TRANSPORTS: [string | undefined, string | null][] = [
  [undefined, 'query-api'],
  ['', 'query-api'],
  ['query-api', 'query-api'],
  ['bolt', 'bolt'],
  ['bolt-pooled', 'bolt-pooled'],
  ['Bolt', null],
  ['bolt-pool', null],
  ['bolt ', null],
  ['http', null],
];

const OBJECTS: [string | undefined, number | null][] = [
  [undefined, DEFAULT_BOLT_POOL_OBJECTS],
  ['', DEFAULT_BOLT_POOL_OBJECTS],
  ['1', 1],
  ['64', 64],
  ['007', 7],
  ['0', null],
  ['65', null],
  ['4.5', null],
  [' 4', null],
  ['0x10', null],
  ['1e1', null],
  ['-1', null],
  ['1000', null],
];

describe('Worker bindings', () => {
  it.each(TRANSPORTS)('GATEWAY_TRANSPORT=%j -> %s (null: refused, never replaced by the default)', (value, expected) => {
    const e = env(value === undefined ? {} : { GATEWAY_TRANSPORT: value });
    if (expected === null) expect(problems(e)).toEqual(['$: GATEWAY_TRANSPORT must be one of query-api, bolt, bolt-pooled']);
    else expect(configure(e).transport).toBe(expected);
  });

  it.each(OBJECTS)('GATEWAY_BOLT_POOL_OBJECTS=%j -> %s', (value, expected) => {
    const e = env({ GATEWAY_TRANSPORT: 'bolt-pooled', ...(value === undefined ? {} : { GATEWAY_BOLT_POOL_OBJECTS: value }) });
    if (expected === null) expect(problems(e)).toEqual(['$: GATEWAY_BOLT_POOL_OBJECTS must be a whole number from 1 to 64']);
    else expect(configure(e).poolObjects).toBe(expected);
  });

  it('bolt-pooled without the Durable Object binding is refused; the other transports do not need it', () => {
    expect(problems(env({ GATEWAY_TRANSPORT: 'bolt-pooled', BOLT_POOL: undefined }))).toEqual([
      '$: GATEWAY_TRANSPORT=bolt-pooled needs the BOLT_POOL Durable Object binding (wrangler.toml)',
    ]);
    expect(configure(env({ GATEWAY_TRANSPORT: 'bolt', BOLT_POOL: undefined })).transport).toBe('bolt');
    expect(configure(env({ BOLT_POOL: undefined })).transport).toBe('query-api');
  });

  it('the fleet secret is required where transactions are held by Neo4j (query-api, bolt-pooled), not with bolt', () => {
    for (const kind of ['query-api', 'bolt-pooled']) {
      expect(problems(env({ GATEWAY_TRANSPORT: kind, GATEWAY_SECRET: undefined }))[0]).toMatch(
        /^\$\.secrets\.fleetSecretEnv: the fleet secret GATEWAY_SECRET is not set/,
      );
    }
    expect(problems(env({ GATEWAY_TRANSPORT: 'bolt', GATEWAY_SECRET: undefined }))).toEqual([]);
  });

  it('reads a bindings object once', () => {
    const e = env({ GATEWAY_TRANSPORT: 'bolt-pooled' });
    expect(configure(e)).toBe(configure(e));
  });
});
