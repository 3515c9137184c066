/** The fleet secret (secrets.fleetSecretEnv) and the transaction ids it signs (src/http/tx-token.ts). */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseTopology } from '../../src/config/load.js';
import { GatewayError } from '../../src/errors/index.js';
import { FLEET_SECRET_MIN_LENGTH, resolveFleetSecret } from '../../src/config/fleet-secret.js';
import { TxTokens, type RemoteTx } from '../../src/http/transactions/tx-token.js';

const topology = (secrets?: { fleetSecretEnv: string }) =>
  parseTopology({
    regions: { r: { lat: 0, lon: 0 } },
    defaultRegion: 'r',
    clusters: { c: { routers: ['neo4j://127.0.0.1:7687'], auth: { user: 'neo4j', passwordEnv: 'P' } } },
    shards: { s: { cluster: 'c', database: 'neo4j' } },
    ...(secrets ? { secrets } : {}),
  });

const SECRET = 'a-fleet-secret-of-enough-length-0123456789';
const tx: RemoteTx = { cluster: 'c', member: '10.0.0.1:7687', database: 'neo4j', shard: 's', requested: 's', mode: 'WRITE', neo4jId: '42', apiKey: 'app' };

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('resolveFleetSecret', () => {
  it('is GATEWAY_SECRET by default, or the variable the topology names', () => {
    expect(resolveFleetSecret(topology(), (n) => (n === 'GATEWAY_SECRET' ? SECRET : undefined), ['x'])).toBe(SECRET);
    expect(resolveFleetSecret(topology({ fleetSecretEnv: 'MY_FLEET' }), (n) => (n === 'MY_FLEET' ? SECRET : undefined), ['x'])).toBe(SECRET);
  });

  it('missing where needed: a ConfigError that names the variable and why', () => {
    const err = configError(() => resolveFleetSecret(topology({ fleetSecretEnv: 'MY_FLEET' }), () => undefined, ['Redis is configured']));
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toMatch(/^\$\.secrets\.fleetSecretEnv: the fleet secret MY_FLEET is not set; it is required because Redis is configured/);
    expect(() => resolveFleetSecret(topology(), () => '', ['Redis is configured'])).toThrow(ConfigError);
  });

  it('not needed and not set: none', () => {
    expect(resolveFleetSecret(topology(), () => undefined, [])).toBeUndefined();
  });

  it('too short, even where not needed: refused without echoing the value', () => {
    const short = 'short-secret-value-XYZ';
    const err = configError(() => resolveFleetSecret(topology(), () => short, []));
    expect(err.message).toContain('GATEWAY_SECRET');
    expect(err.message).toContain(`${FLEET_SECRET_MIN_LENGTH} characters`);
    expect(err.message).not.toContain(short);
    expect(resolveFleetSecret(topology(), () => 'x'.repeat(FLEET_SECRET_MIN_LENGTH), [])).toHaveLength(FLEET_SECRET_MIN_LENGTH);
  });
});

describe('TxTokens', () => {
  it('refuses a constant or short key (the old fallback "neo4j-edge-gateway" included)', () => {
    expect(() => new TxTokens('neo4j-edge-gateway')).toThrow(ConfigError);
    expect(() => new TxTokens('x'.repeat(FLEET_SECRET_MIN_LENGTH - 1))).toThrow(ConfigError);
  });

  it('ids verify under the same secret only, for the same key and database only', async () => {
    const a = new TxTokens(SECRET);
    const id = await a.sign(tx);
    expect(await new TxTokens(SECRET).verify(id, 'app', 's')).toEqual(tx);
    for (const [token, principal, db] of [
      [id, 'other', 's'],
      [id, 'app', 'other'],
      [id.slice(0, -2) + (id.endsWith('AA') ? 'BB' : 'AA'), 'app', 's'],
    ] as const) {
      await expect(a.verify(token, principal, db)).rejects.toBeInstanceOf(GatewayError);
    }
    await expect(new TxTokens(`${SECRET}-other`).verify(id, 'app', 's')).rejects.toMatchObject({ status: 404 });
  });
});
