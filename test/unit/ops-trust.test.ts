/** Trusted proxies (addresses and CIDR ranges, IPv4 and IPv6) and what /topology shows a key (src/http/routes/ops.ts). */
import { describe, expect, it } from 'vitest';
import { parseTopology } from '../../src/config/load.js';
import { inRanges, parseIp, parseTrustedProxies } from '../../src/http/proxies.js';
import { visibleTopology } from '../../src/http/visibility.js';

const hex = (b: Uint8Array | undefined) => (b ? [...b].map((x) => x.toString(16).padStart(2, '0')).join('') : undefined);

describe('parseIp', () => {
  it('reads IPv4 (as IPv4-mapped IPv6) and every IPv6 spelling', () => {
    expect(hex(parseIp('10.1.2.3'))).toBe('00000000000000000000ffff0a010203');
    expect(hex(parseIp('::ffff:10.1.2.3'))).toBe('00000000000000000000ffff0a010203');
    expect(hex(parseIp('::ffff:a01:203'))).toBe('00000000000000000000ffff0a010203');
    expect(hex(parseIp('::1'))).toBe('00000000000000000000000000000001');
    expect(hex(parseIp('::'))).toBe('0'.repeat(32));
    expect(hex(parseIp('fe80::1%eth0'))).toBe('fe800000000000000000000000000001');
    expect(hex(parseIp('[2001:db8::8:800:200c:417a]'))).toBe('20010db80000000000080800200c417a');
    expect(hex(parseIp('2001:db8:0:0:1:0:0:1'))).toBe('20010db8000000000001000000000001');
  });

  it('refuses what is not an address', () => {
    for (const bad of [
      '',
      'localhost',
      '256.1.1.1',
      '1.2.3',
      '1.2.3.4.5',
      '1::2::3',
      '12345::',
      '1:2:3:4:5:6:7:8:9',
      '1:2:3:4:5:6:7',
      'g::1',
      '::ffff:1.2.3.999',
      '1:2:3:4:5:6:7::8',
    ]) {
      expect(parseIp(bad), bad).toBeUndefined();
    }
  });
});

describe('trusted proxies', () => {
  it('matches addresses and CIDR ranges of both families; IPv4 peers reported as ::ffff:a.b.c.d match IPv4 entries', () => {
    const { ranges, problems } = parseTrustedProxies(['127.0.0.1', '10.0.0.0/8', '192.168.4.0/22', 'fd00::/8', '::1', '2001:db8::/127']);
    expect(problems).toEqual([]);
    for (const yes of ['127.0.0.1', '::ffff:127.0.0.1', '10.255.0.1', '192.168.7.255', 'fd12:3456::1', '::1', '2001:db8::1'])
      expect(inRanges(yes, ranges), yes).toBe(true);
    for (const no of ['127.0.0.2', '11.0.0.1', '192.168.8.0', 'fe00::1', '::2', '2001:db8::2', 'not-an-ip', undefined])
      expect(inRanges(no, ranges), String(no)).toBe(false);
  });

  it('/0 ranges; nothing configured trusts nobody', () => {
    expect(inRanges('8.8.8.8', parseTrustedProxies(['0.0.0.0/0']).ranges)).toBe(true);
    expect(inRanges('2001::1', parseTrustedProxies(['0.0.0.0/0']).ranges)).toBe(false);
    expect(inRanges('2001::1', parseTrustedProxies(['::/0']).ranges)).toBe(true);
    expect(inRanges('127.0.0.1', parseTrustedProxies([]).ranges)).toBe(false);
  });

  it('names each bad entry by its JSON path', () => {
    expect(
      parseTrustedProxies(['10.0.0.1', 'proxy.internal', '10.0.0.0/33', '::1/129', '10.0.0.0/8/1', '10.0.0.0/x']).problems.map((p) => p.split(':')[0]),
    ).toEqual(['$.http.trustedProxies[1]', '$.http.trustedProxies[2]', '$.http.trustedProxies[3]', '$.http.trustedProxies[4]', '$.http.trustedProxies[5]']);
  });
});

describe('visibleTopology', () => {
  const t = parseTopology({
    regions: { r: { lat: 0, lon: 0 } },
    defaultRegion: 'r',
    clusters: Object.fromEntries(['c1', 'c2', 'c3'].map((c) => [c, { routers: ['neo4j://127.0.0.1:7687'], auth: { user: 'neo4j', passwordEnv: 'P' } }])),
    shards: { a: { cluster: 'c1', database: 'a' }, b: { cluster: 'c2', database: 'b' }, c: { cluster: 'c3', database: 'c' } },
    composites: { ab: { shards: ['a', 'b'] } },
  });
  const sorted = (v: ReturnType<typeof visibleTopology>) => ({
    shards: [...v.shards].sort(),
    composites: [...v.composites].sort(),
    clusters: [...v.clusters].sort(),
  });

  it('"*" sees everything', () => {
    expect(sorted(visibleTopology(t, '*'))).toEqual({ shards: ['a', 'b', 'c'], composites: ['ab'], clusters: ['c1', 'c2', 'c3'] });
  });
  it('a shard key sees its shard and its cluster', () => {
    expect(sorted(visibleTopology(t, new Set(['c'])))).toEqual({ shards: ['c'], composites: [], clusters: ['c3'] });
  });
  it('a composite key sees the composite, the shards it fans out to, and their clusters', () => {
    expect(sorted(visibleTopology(t, new Set(['ab'])))).toEqual({ shards: ['a', 'b'], composites: ['ab'], clusters: ['c1', 'c2'] });
  });
});
