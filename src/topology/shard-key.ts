/** Shard-key resolution for composites (pure): lookup map, consistent hash, ranges. */
import type { CompositeConfig } from '../config/schema.js';
import { Codes, GatewayError } from '../errors/index.js';

/** FNV-1a, 32 bit: stable across runtimes and instances */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // murmur3's finaliser: full avalanche, so similar keys spread evenly
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Rendezvous (highest-random-weight) hashing: every instance picks the same shard for a key,
 * and adding or removing a shard moves only the keys that must move.
 */
export function hashShard(shards: readonly string[], key: string): string {
  let best = shards[0]!;
  let bestScore = -1;
  for (const s of shards) {
    const score = fnv1a(`${s}\u0000${key}`);
    if (score > bestScore || (score === bestScore && s < best)) {
      best = s;
      bestScore = score;
    }
  }
  return best;
}

function compare(a: number | string, b: number | string): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

/** The shards of `composite` that hold data for shard-key `value`. */
export function shardsForKey(name: string, composite: CompositeConfig, value: string): string[] {
  const key = composite.shardKey;
  if (!key) {
    throw new GatewayError(Codes.UnknownShardKey, `Composite '${name}' has no shard key configured; remove the shard key or use USE.`);
  }
  switch (key.strategy) {
    case 'lookup': {
      const shard = Object.hasOwn(key.map, value) ? key.map[value] : undefined;
      if (!shard)
        throw new GatewayError(
          Codes.UnknownShardKey,
          `Shard key '${value}' maps to no shard of composite '${name}'. Known keys: ${Object.keys(key.map).sort().join(', ')}.`,
        );
      return [shard];
    }
    case 'hash':
      return [hashShard(composite.shards, value)];
    case 'range': {
      const numeric = value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : value;
      const hit = key.ranges.find((r) => (r.from === undefined || compare(numeric, r.from) >= 0) && (r.to === undefined || compare(numeric, r.to) < 0));
      if (!hit) throw new GatewayError(Codes.UnknownShardKey, `Shard key '${value}' falls in no range of composite '${name}'.`);
      return [hit.shard];
    }
  }
}
