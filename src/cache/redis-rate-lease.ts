/**
 * The fleet-wide rate limit on Redis (Cache.rateLease): one exchange, atomic in one Lua script,
 * the steps of exchangeOnBucket in src/limits/rate-limit.ts on Redis's own clock (instances'
 * clocks may differ). The key's bucket (hash) and its sharing instances (sorted set) share a hash
 * tag, so Redis Cluster keeps them on one node. Both expire once the bucket would be full again.
 * Note: these counters are not sealed (the script must update them in place); whoever can write
 * Redis can change a key's rate limit, never a route or a credential.
 */
import type { Cluster, Redis } from 'ioredis';
import type { RateLeaseGrant, RateLeaseRequest } from './types.js';

/** KEYS: bucket, instances; ARGV: rate, burst, want, giveBack, owed, instance, activeMs */
const RATE_LEASE_SCRIPT = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local giveBack = tonumber(ARGV[4])
local owed = tonumber(ARGV[5])
local activeMs = tonumber(ARGV[7])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = burst
if b[1] and b[2] then
  tokens = math.min(burst, tonumber(b[1]) + math.max(0, now - tonumber(b[2])) * rate / 1000)
end
tokens = math.min(burst, tokens + giveBack) - owed
redis.call('ZADD', KEYS[2], now, ARGV[6])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. (now - activeMs))
local sharing = math.max(1, redis.call('ZCARD', KEYS[2]))
local cap = 0
if tokens >= 1 then cap = math.max(1, math.floor(tokens / sharing)) end
local granted = math.max(0, math.min(math.floor(want), cap))
tokens = tokens - granted
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
local ttl = math.ceil((burst - tokens) / rate * 1000) + activeMs
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], activeMs * 2)
return {granted, sharing, math.floor(tokens)}
`;

/** the Redis keys of a rate-limit key's bucket and instances, under one hash tag */
export function rateLeaseKeys(key: string): { bucket: string; instances: string } {
  const tag = `rl:{${encodeURIComponent(key)}}`;
  return { bucket: `${tag}:bucket`, instances: `${tag}:instances` };
}

/** runs one exchange; a failed or timed-out call rejects (the cache then answers null) */
export async function exchangeRateLease(
  client: Redis | Cluster,
  keys: { bucket: string; instances: string },
  request: RateLeaseRequest,
): Promise<RateLeaseGrant> {
  const reply = (await client.eval(
    RATE_LEASE_SCRIPT,
    2,
    keys.bucket,
    keys.instances,
    request.rate,
    request.burst,
    request.want,
    request.giveBack,
    request.owed,
    request.instance,
    request.activeMs,
  )) as [number, number, number];
  return { granted: Number(reply[0]), instances: Number(reply[1]), remaining: Number(reply[2]) };
}
