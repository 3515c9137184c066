import { createHash, pbkdf2Sync } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseTopology } from '../../src/config/load.js';
import type { TopologyInput } from '../../src/config/schema.js';
import { ApiKeyAuth, REFUSED_CACHE_ENTRIES, VERIFIED_CACHE_ENTRIES, keyVerifier } from '../../src/http/auth.js';
import { GatewayError } from '../../src/errors/index.js';

const hex = (s: string) => createHash('sha256').update(s).digest('hex');
const salted = (salt: string, key: string) => `sha256:${salt}:${hex(salt + key)}`;
const pbkdf2 = (iterations: number, salt: string, key: string) =>
  `pbkdf2-sha256:${iterations}:${salt}:${pbkdf2Sync(key, salt, iterations, 32, 'sha256').toString('hex')}`;

function topology(apiKeys: TopologyInput['apiKeys']) {
  return parseTopology({
    regions: { r: { lat: 0, lon: 0 } },
    defaultRegion: 'r',
    clusters: { c: { routers: ['neo4j://127.0.0.1:7687'], auth: { user: 'neo4j', passwordEnv: 'P' } } },
    shards: { s: { cluster: 'c', database: 'neo4j' } },
    apiKeys,
  });
}

/** a counting SHA-256 (what the Node adapter injects, plus a counter) */
function countingSha256() {
  const fn = Object.assign(
    (text: string) => {
      fn.calls++;
      return new Uint8Array(createHash('sha256').update(text, 'utf8').digest());
    },
    { calls: 0 },
  );
  return fn;
}

async function status(auth: ApiKeyAuth, header: string | undefined): Promise<string> {
  try {
    return (await auth.authenticate(header)).id;
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    return String((err as GatewayError).status);
  }
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('API-key hashes', () => {
  const keys: TopologyInput['apiKeys'] = [
    { id: 'plain', sha256: hex('plain-key-0123456789'), databases: ['*'] },
    { id: 'salted', hash: salted('NaCl-1f2e', 'salted-key-0123456789'), databases: ['*'] },
    { id: 'pbkdf2', hash: pbkdf2(2000, 'pepper.7', 'pbkdf2-key-0123456789'), databases: ['s'], modes: ['READ'] },
  ];

  it('reads the three forms', () => {
    expect(keyVerifier({ sha256: 'AB'.repeat(32) }).form).toBe('sha256');
    expect(keyVerifier({ hash: salted('x', 'k') })).toMatchObject({ form: 'salted-sha256', salt: 'x' });
    expect(keyVerifier({ hash: pbkdf2(10, 'y', 'k') })).toMatchObject({ form: 'pbkdf2-sha256', salt: 'y', iterations: 10 });
  });

  it('accepts each key in its form, in every Authorization form, and nothing else', async () => {
    const auth = new ApiKeyAuth(topology(keys));
    expect(await status(auth, 'Bearer plain-key-0123456789')).toBe('plain');
    expect(await status(auth, 'Bearer salted-key-0123456789')).toBe('salted');
    expect(await status(auth, 'Bearer pbkdf2-key-0123456789')).toBe('pbkdf2');
    expect(await status(auth, `Bearer ${btoa('salted-key-0123456789')}`)).toBe('salted');
    expect(await status(auth, `Basic ${btoa('pbkdf2:pbkdf2-key-0123456789')}`)).toBe('pbkdf2');
    const p = await auth.authenticate('Bearer pbkdf2-key-0123456789');
    expect(p).toMatchObject({ id: 'pbkdf2', databases: new Set(['s']), modes: new Set(['READ']), allow: [], limits: {} });
    // the salt is part of the hash: the key alone, the salt alone, or the hash itself do not pass
    expect(await status(auth, undefined)).toBe('401');
    expect(await status(auth, 'Bearer salted-key-012345678')).toBe('401');
    expect(await status(auth, 'Bearer NaCl-1f2esalted-key-0123456789')).toBe('401');
    expect(await status(auth, `Bearer ${hex('plain-key-0123456789')}`)).toBe('401');
    expect(await status(auth, 'Bearer pbkdf2-key-0123456788')).toBe('401');
  });

  it('compares against every key: a match on the first key still hashes for all the others', async () => {
    const sha = countingSha256();
    const auth = new ApiKeyAuth(
      topology([
        { id: 'a', hash: salted('s1', 'key-a-0123456789'), databases: ['*'] },
        { id: 'b', hash: salted('s2', 'key-b-0123456789'), databases: ['*'] },
        { id: 'c', hash: salted('s3', 'key-c-0123456789'), databases: ['*'] },
      ]),
      sha,
    );
    expect(await status(auth, 'Bearer key-a-0123456789')).toBe('a');
    // one digest of the presented key (the cache key), then one salted hash per configured key
    expect(sha.calls).toBe(1 + 3);
  });

  it('PBKDF2 is paid once per credential: later requests, and later gateways on the same topology, hit the cache', async () => {
    const t = topology(keys);
    const derive = vi.spyOn(crypto.subtle, 'deriveBits');
    const first = new ApiKeyAuth(t);
    expect(await status(first, 'Bearer pbkdf2-key-0123456789')).toBe('pbkdf2');
    const afterFirst = derive.mock.calls.length;
    expect(afterFirst).toBe(1);
    for (let i = 0; i < 5; i++) expect(await status(first, 'Bearer pbkdf2-key-0123456789')).toBe('pbkdf2');
    // a Worker builds its gateway per request over the isolate's topology object
    expect(await status(new ApiKeyAuth(t), 'Bearer pbkdf2-key-0123456789')).toBe('pbkdf2');
    expect(derive.mock.calls.length).toBe(afterFirst);
    // concurrent first requests with one credential share one verification
    const fresh = new ApiKeyAuth(topology(keys));
    const before = derive.mock.calls.length;
    const ids = await Promise.all(Array.from({ length: 8 }, () => status(fresh, 'Bearer pbkdf2-key-0123456789')));
    expect(ids).toEqual(Array(8).fill('pbkdf2'));
    expect(derive.mock.calls.length - before).toBe(1);
    // a wrong key is remembered as refused: repeated, it pays the verification once
    await status(fresh, 'Bearer wrong-0123456789');
    await status(fresh, 'Bearer wrong-0123456789');
    expect(derive.mock.calls.length - before).toBe(2);
    await status(fresh, 'Bearer wrong-other-0123456789');
    expect(derive.mock.calls.length - before).toBe(3);
  });

  it('the cache is bounded: past its size the least recently used credential is verified again', async () => {
    const n = VERIFIED_CACHE_ENTRIES + 1;
    const sha = countingSha256();
    const auth = new ApiKeyAuth(
      topology([
        // one salted key: each full verification costs one more SHA-256 than a cache hit
        { id: 'salted', hash: salted('s', 'salted-0123456789'), databases: ['*'] },
        ...Array.from({ length: n }, (_, i) => ({ id: `k${i}`, sha256: hex(`key-${i}-0123456789`), databases: ['*'] })),
      ]),
      sha,
    );
    const cost = async (i: number) => {
      const before = sha.calls;
      expect(await status(auth, `Bearer key-${i}-0123456789`)).toBe(`k${i}`);
      return sha.calls - before;
    };
    expect(await cost(0)).toBe(2);
    expect(await cost(0)).toBe(1);
    for (let i = 1; i < n; i++) await cost(i);
    // key 0 was the least recently used one when key n-1 arrived
    expect(await cost(1)).toBe(1);
    expect(await cost(0)).toBe(2);
  });

  it('refused credentials are remembered up to a bound: past it the oldest is verified again', async () => {
    const sha = countingSha256();
    const auth = new ApiKeyAuth(topology([{ id: 'salted', hash: salted('s', 'salted-0123456789'), databases: ['*'] }]), sha);
    const cost = async (i: number) => {
      const before = sha.calls;
      expect(await status(auth, `Bearer wrong-${i}-0123456789`)).toBe('401');
      return sha.calls - before;
    };
    expect(await cost(0)).toBe(2);
    expect(await cost(0)).toBe(1);
    for (let i = 1; i <= REFUSED_CACHE_ENTRIES; i++) await cost(i);
    expect(await cost(REFUSED_CACHE_ENTRIES)).toBe(1);
    expect(await cost(0)).toBe(2);
  });
});
