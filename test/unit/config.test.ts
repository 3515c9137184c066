import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, jsonPath, parseTopology, parseTopologyText, resolveSecrets } from '../../src/config/load.js';
import { topologyJsonSchemaText } from '../../src/config/json-schema.js';
import { DEFAULT_RETRY_POLICY } from '../../src/routing/retry-policy.js';

const sampleText = readFileSync(new URL('../../schema/topology.sample.json', import.meta.url), 'utf8');
const sample = () => JSON.parse(sampleText) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function problems(input: unknown): string[] {
  try {
    parseTopology(input);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected the topology to be refused');
}

describe('topology config', () => {
  it('accepts the sample and fills defaults', () => {
    const t = parseTopologyText(sampleText);
    expect(Object.keys(t.shards)).toEqual(['users-us', 'users-eu']);
    expect(t.limits.maxBodyBytes).toBe(1048576);
    expect(t.routing.strictRegionPin).toBe(false);
    expect(t.cache.keyPrefix).toBe('n4gw:');
    // the retry policy's defaults are the executor's (routing/retry-policy.ts)
    expect(t.routing.retry).toEqual(DEFAULT_RETRY_POLICY);
    expect(t.limits.maxKeyVerifications).toBe(8);
  });

  it('takes retry limits, and refuses ones that make no sense', () => {
    const input = sample();
    input.routing = { retry: { maxFailoverAttempts: 3, maxBackoffMs: 200 } };
    expect(parseTopology(input).routing.retry).toEqual({ ...DEFAULT_RETRY_POLICY, maxFailoverAttempts: 3, maxBackoffMs: 200 });
    input.routing = { retry: { maxFailoverAttempts: 0 } };
    expect(problems(input).join('\n')).toContain('$.routing.retry.maxFailoverAttempts');
  });

  it('schema/topology.schema.json is generated from the zod schema and up to date (npm run schema)', () => {
    const committed = readFileSync(new URL('../../schema/topology.schema.json', import.meta.url), 'utf8');
    expect(committed).toBe(topologyJsonSchemaText());
  });

  it('reports one line per problem, each with its JSON path', () => {
    const t = sample();
    t.defaultRegion = 'mars';
    t.clusters['c-us'].routers[0] = 'http://nope';
    t.clusters['c-eu'].auth.password = 'plaintext';
    t.shards['users-eu'].cluster = 'c-nowhere';
    t.composites.users.shards.push('ghost');
    t.apiKeys[0].sha256 = 'abc';
    const p = problems(t);
    expect(p).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\$\.clusters\["c-us"\]\.routers\[0\]: must be a neo4j:\/\/ or bolt:\/\/ URL/),
        expect.stringMatching(/^\$\.clusters\["c-eu"\]\.auth\.password: unknown field/),
        expect.stringMatching(/^\$\.apiKeys\[0\]\.sha256: must be the hex SHA-256/),
      ]),
    );
    expect(p.length).toBeGreaterThanOrEqual(3);
  });

  it('checks cross-references once the shape is right', () => {
    const t = sample();
    t.defaultRegion = 'mars';
    t.shards['users-eu'].cluster = 'c-nowhere';
    t.composites.users.shards.push('ghost');
    t.apiKeys[1].databases.push('nope');
    t.clusters['c-us'].members['127.0.0.1:17687'].region = 'atlantis';
    expect(problems(t).sort()).toEqual(
      [
        '$.apiKeys[1].databases[3]: unknown database "nope"',
        '$.clusters["c-us"].members["127.0.0.1:17687"].region: unknown region "atlantis"',
        '$.composites.users.shards[2]: unknown shard "ghost"',
        '$.defaultRegion: unknown region "mars"',
        '$.shards["users-eu"].cluster: unknown cluster "c-nowhere"',
      ].sort(),
    );
  });

  it('refuses missing required fields by path', () => {
    const t = sample();
    delete t.clusters['c-us'].auth;
    delete t.regions;
    const p = problems(t);
    expect(p).toContain('$.regions: Invalid input: expected record, received undefined');
    expect(p.some((l) => l.startsWith('$.clusters["c-us"].auth:'))).toBe(true);
  });

  it('refuses text that is not JSON with a message, not a crash', () => {
    expect(() => parseTopologyText('{ nope', 'topology.json')).toThrow(/topology\.json is not valid JSON/);
  });

  it('says where text is not JSON, never what it says there (it may hold a secret)', () => {
    for (const text of ['{"cache": {"redisUrl": "redis://u:hunter2-secret@h"} x', 'hunter2-secret', '{"a": hunter2-secret}']) {
      let message = '';
      try {
        parseTopologyText(text, 'GATEWAY_CONFIG');
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(/GATEWAY_CONFIG is not valid JSON/);
      expect(message).not.toContain('hunter2');
    }
    expect(() => parseTopologyText('{\n  "a": 1,\n}', 'x')).toThrow(/at line 3, column 1/);
  });

  it('names missing password variables, never values', () => {
    const t = parseTopologyText(sampleText);
    try {
      resolveSecrets(t, (n) => (n === 'NEO4J_PASSWORD_C_US' ? 's3cret' : undefined));
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect((err as ConfigError).problems).toEqual(['$.clusters["c-eu"].auth.passwordEnv: environment variable NEO4J_PASSWORD_C_EU is not set']);
      expect((err as Error).message).not.toContain('s3cret');
    }
  });

  it('renders JSON paths', () => {
    expect(jsonPath(['a', 0, 'b-c', 'd'])).toBe('$.a[0]["b-c"].d');
  });
});
