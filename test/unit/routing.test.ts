import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pickReader, regionOrder, type Candidate } from '../../src/routing/select.js';
import { bookmarksFor, decodeBookmarks, encodeBookmarks, mergeBookmarks } from '../../src/routing/bookmarks.js';
import { greatCircleKm, nearestRegion } from '../../src/topology/index.js';
import { parseTopology } from '../../src/config/load.js';

const REGIONS = { 'us-west': { lat: 37.4, lon: -122.1 }, 'us-east': { lat: 39.0, lon: -77.5 }, eu: { lat: 50.1, lon: 8.7 }, ap: { lat: 1.35, lon: 103.8 } };
const dist = (a: string, b: string) => greatCircleKm(REGIONS[a as keyof typeof REGIONS], REGIONS[b as keyof typeof REGIONS]);
const regionNames = Object.keys(REGIONS);

const candidateArb = fc.record({
  address: fc.constantFrom('a:1', 'b:1', 'c:1', 'd:1', 'e:1'),
  region: fc.constantFrom(...regionNames),
  inFlight: fc.nat(5),
  healthy: fc.boolean(),
});
const candidatesArb = fc.uniqueArray(candidateArb, { selector: (c) => c.address, minLength: 1, maxLength: 5 });

describe('region order', () => {
  it('puts the origin first, then regions by distance', () => {
    expect(regionOrder('us-west', regionNames, dist)).toEqual(['us-west', 'us-east', 'eu', 'ap']);
    expect(regionOrder('eu', regionNames, dist)).toEqual(['eu', 'us-east', 'us-west', 'ap']);
  });

  it('is a permutation of the regions, sorted by distance from the origin', () => {
    fc.assert(
      fc.property(fc.constantFrom(...regionNames), (origin) => {
        const order = regionOrder(origin, regionNames, dist);
        expect([...order].sort()).toEqual([...regionNames].sort());
        for (let i = 1; i < order.length; i++) expect(dist(origin, order[i - 1]!)).toBeLessThanOrEqual(dist(origin, order[i]!));
      }),
    );
  });

  it('maps coordinates to the nearest configured region', () => {
    const t = parseTopology({ regions: REGIONS, defaultRegion: 'eu', clusters: {}, shards: {} });
    expect(nearestRegion(t, { lat: 48.8, lon: 2.3 })).toBe('eu'); // Paris
    expect(nearestRegion(t, { lat: 40.7, lon: -74 })).toBe('us-east'); // New York
    expect(nearestRegion(t, { lat: 35.7, lon: 139.7 })).toBe('ap'); // Tokyo
  });
});

describe('reader choice', () => {
  it('never picks an unhealthy reader while a healthy one exists', () => {
    fc.assert(
      fc.property(candidatesArb, fc.constantFrom(...regionNames), fc.nat(), (cands: Candidate[], origin, tie) => {
        const pick = pickReader(cands, regionOrder(origin, regionNames, dist), { tieBreak: tie })!;
        expect(pick).toBeDefined();
        if (cands.some((c) => c.healthy)) expect(pick.healthy).toBe(true);
      }),
    );
  });

  it('picks from the nearest region that has a healthy reader, least in-flight among equals', () => {
    fc.assert(
      fc.property(candidatesArb, fc.constantFrom(...regionNames), fc.nat(), (cands: Candidate[], origin, tie) => {
        const order = regionOrder(origin, regionNames, dist);
        const pick = pickReader(cands, order, { tieBreak: tie })!;
        const pool = cands.some((c) => c.healthy) ? cands.filter((c) => c.healthy) : cands;
        const bestRank = Math.min(...pool.map((c) => order.indexOf(c.region)));
        expect(order.indexOf(pick.region)).toBe(bestRank);
        const sameRegion = pool.filter((c) => c.region === pick.region);
        expect(pick.inFlight).toBe(Math.min(...sameRegion.map((c) => c.inFlight)));
      }),
    );
  });

  it('stays in the region when the pin is strict, and finds nothing when it has no reader', () => {
    const cands: Candidate[] = [
      { address: 'a:1', region: 'us-west', inFlight: 0, healthy: true },
      { address: 'b:1', region: 'eu', inFlight: 9, healthy: false },
    ];
    expect(pickReader(cands, regionOrder('eu', regionNames, dist), { strictRegion: 'eu' })?.address).toBe('b:1');
    expect(pickReader(cands, regionOrder('eu', regionNames, dist))?.address).toBe('a:1');
    expect(pickReader(cands, regionOrder('ap', regionNames, dist), { strictRegion: 'ap' })).toBeUndefined();
  });

  it('spreads load over equal members', () => {
    const cands: Candidate[] = ['a:1', 'b:1', 'c:1'].map((address) => ({ address, region: 'eu', inFlight: 0, healthy: true }));
    const picks = new Set([0, 1, 2].map((tie) => pickReader(cands, ['eu'], { tieBreak: tie })!.address));
    expect(picks.size).toBe(3);
  });
});

describe('gateway bookmarks', () => {
  const shardBookmarks = fc.dictionary(
    fc.constantFrom('users-us', 'users-eu', 'orders', 'x_y-z'),
    fc.uniqueArray(fc.string({ minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 3 }),
  );

  it("round-trip every shard's bookmarks", () => {
    fc.assert(
      fc.property(shardBookmarks, (bm) => {
        const tokens = encodeBookmarks(bm);
        const decoded = decodeBookmarks(tokens);
        expect(decoded.invalid).toEqual([]);
        expect(decoded.raw).toEqual([]);
        for (const [shard, list] of Object.entries(bm)) expect([...decoded.shards[shard]!].sort()).toEqual([...new Set(list)].sort());
        expect(Object.keys(decoded.shards).sort()).toEqual(Object.keys(bm).sort());
      }),
    );
  });

  it('keeps the causal chain of shards a request did not touch', () => {
    fc.assert(
      fc.property(shardBookmarks, fc.constantFrom('users-us', 'users-eu'), fc.string({ minLength: 1 }), (sent, shard, fresh) => {
        const merged = mergeBookmarks(sent, { [shard]: [fresh] });
        for (const s of Object.keys(sent)) if (s !== shard) expect(merged[s]).toEqual(sent[s]);
        expect(merged[shard]).toEqual([fresh]);
      }),
    );
  });

  it('treats foreign strings as raw Neo4j bookmarks and flags broken gateway tokens', () => {
    const d = decodeBookmarks(['FB:kcwQER9jsVLcQcWISUHrvjDKYwOQ', 'n4gw1:%%%', ...encodeBookmarks({ a: ['x'] })]);
    expect(d.raw).toEqual(['FB:kcwQER9jsVLcQcWISUHrvjDKYwOQ']);
    expect(d.invalid).toEqual(['n4gw1:%%%']);
    expect(bookmarksFor(d, 'a')).toEqual(['x', 'FB:kcwQER9jsVLcQcWISUHrvjDKYwOQ']);
    expect(encodeBookmarks({})).toEqual([]);
  });
});
