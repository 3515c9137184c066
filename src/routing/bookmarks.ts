/**
 * Gateway bookmarks: one opaque token that carries each shard's Neo4j bookmarks, so a client that
 * sends it back reads its own writes on any shard, through any gateway instance.
 *
 * Format: "n4gw1:" + base64url(JSON {shard: [neo4j bookmarks...]}). Anything else a client sends
 * is taken as a raw Neo4j bookmark for the shard being queried (what a plain Query API client
 * that talked to Neo4j directly would send).
 */

import { base64ToBytes, bytesToBase64Url } from '../values/format.js';

const PREFIX = 'n4gw1:';

export type ShardBookmarks = Record<string, string[]>;

const toBase64Url = (s: string): string => bytesToBase64Url(new TextEncoder().encode(s));
const fromBase64Url = (s: string): string => new TextDecoder().decode(base64ToBytes(s));

export function encodeBookmarks(bm: ShardBookmarks): string[] {
  const clean: ShardBookmarks = {};
  for (const shard of Object.keys(bm).sort()) {
    const list = [...new Set(bm[shard])].filter((b) => b.length > 0).sort();
    if (list.length > 0) clean[shard] = list;
  }
  if (Object.keys(clean).length === 0) return [];
  return [PREFIX + toBase64Url(JSON.stringify(clean))];
}

/**
 * Decodes what a client sent. Gateway tokens are merged per shard; raw bookmarks are returned
 * apart (they belong to whichever shard the request targets). Malformed tokens are reported.
 */
export function decodeBookmarks(tokens: string[]): { shards: ShardBookmarks; raw: string[]; invalid: string[] } {
  const shards: ShardBookmarks = {};
  const raw: string[] = [];
  const invalid: string[] = [];
  for (const t of tokens) {
    if (!t.startsWith(PREFIX)) {
      raw.push(t);
      continue;
    }
    try {
      const parsed = JSON.parse(fromBase64Url(t.slice(PREFIX.length))) as unknown;
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      for (const [shard, list] of Object.entries(parsed as Record<string, unknown>)) {
        if (!Array.isArray(list) || !list.every((b) => typeof b === 'string')) throw new Error('bad list');
        shards[shard] = [...new Set([...(shards[shard] ?? []), ...(list as string[])])];
      }
    } catch {
      invalid.push(t);
    }
  }
  return { shards, raw, invalid };
}

/** The bookmarks for one shard: its part of the gateway tokens plus raw ones. */
export function bookmarksFor(decoded: { shards: ShardBookmarks; raw: string[] }, shard: string): string[] {
  return [...(decoded.shards[shard] ?? []), ...decoded.raw];
}

/**
 * The token to return after a request: the shards it touched get their new bookmarks, every
 * other shard keeps what the client sent (the causal chain is never dropped).
 */
export function mergeBookmarks(sent: ShardBookmarks, touched: ShardBookmarks): ShardBookmarks {
  return { ...sent, ...touched };
}
