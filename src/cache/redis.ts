/**
 * Redis cache (ioredis): shared by every gateway instance. Failures never fail a request: a call
 * that fails or takes too long answers "miss" and marks the store unhealthy until it answers again.
 *
 * Whoever can write Redis must not be able to steer the fleet: every value (routing tables name
 * the hosts that receive Neo4j credentials) and every pub/sub message is sealed with an
 * HMAC-SHA256 under the fleet secret, bound to its key or channel. A value or message whose seal
 * does not verify, or that has none, is treated as absent. Sealing costs only on Redis calls,
 * never on the in-memory hot path. Lock tokens (tryLock/unlock) are opaque and not sealed.
 */
import { Redis, Cluster, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { Cache, RateLeaseGrant, RateLeaseRequest } from './types.js';

export interface RedisCacheOptions {
  url: string;
  keyPrefix: string;
  /** the fleet secret: seals values and messages (every instance sharing this Redis has the same one) */
  secret: string;
  /** how long one command may take before it counts as a miss */
  commandTimeoutMs?: number;
  /** connect on the first command, not at construction (Workers: per-request clients, used only on a miss) */
  lazy?: boolean;
  /** false: no pub/sub subscription (per-request clients cannot listen) */
  subscribe?: boolean;
  /** how long calls wait for the very first connection (default 1000 ms) */
  connectWaitMs?: number;
  /** use Redis Cluster (several seed URLs separated by commas also select it) */
  cluster?: boolean;
}

/** how to reach Redis, read from the URL(s): one server, or Redis Cluster seeds */
export type RedisTarget =
  | { kind: 'single'; url: string }
  | { kind: 'cluster'; nodes: { host: string; port: number }[]; username?: string; password?: string; tls: boolean };

/**
 * Reads `redis://` / `rediss://` URLs. Several, comma-separated (or `cluster`), are Redis Cluster
 * seeds: they must agree on TLS and on credentials (given on one seed or on each), which then
 * apply to every node of the cluster.
 */
export function redisTarget(url: string, cluster = false): RedisTarget {
  const urls = url.split(',').map((u) => u.trim()).filter(Boolean);
  if (!cluster && urls.length <= 1) return { kind: 'single', url: urls[0] ?? url };
  const seeds = urls.map((u) => {
    let p: URL;
    try {
      p = new URL(u);
    } catch {
      throw new Error('a Redis Cluster seed is not a redis:// or rediss:// URL');
    }
    if (p.protocol !== 'redis:' && p.protocol !== 'rediss:') throw new Error('a Redis Cluster seed is not a redis:// or rediss:// URL');
    return {
      host: p.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: Number(p.port || 6379),
      tls: p.protocol === 'rediss:',
      username: p.username ? decodeURIComponent(p.username) : undefined,
      password: p.password ? decodeURIComponent(p.password) : undefined,
    };
  });
  if (new Set(seeds.map((s) => s.tls)).size > 1) throw new Error('Redis Cluster seeds mix redis:// and rediss://');
  const withAuth = seeds.filter((s) => s.username !== undefined || s.password !== undefined);
  if (new Set(withAuth.map((s) => `${s.username ?? ''}\u0000${s.password ?? ''}`)).size > 1) throw new Error('Redis Cluster seeds carry different credentials');
  const auth = withAuth[0];
  return {
    kind: 'cluster',
    nodes: seeds.map((s) => ({ host: s.host, port: s.port })),
    ...(auth?.username !== undefined ? { username: auth.username } : {}),
    ...(auth?.password !== undefined ? { password: auth.password } : {}),
    tls: seeds[0]?.tls ?? false,
  };
}

/** ioredis Cluster options for a target: credentials and TLS reach every node through redisOptions */
export function clusterOptions(target: Extract<RedisTarget, { kind: 'cluster' }>, common: { keyPrefix: string; commandTimeout: number; lazyConnect: boolean }): ClusterOptions {
  return {
    keyPrefix: common.keyPrefix,
    enableOfflineQueue: false,
    lazyConnect: common.lazyConnect,
    clusterRetryStrategy: (times: number) => Math.min(times * 200, 2000),
    redisOptions: {
      commandTimeout: common.commandTimeout,
      maxRetriesPerRequest: 0,
      ...(target.username !== undefined ? { username: target.username } : {}),
      ...(target.password !== undefined ? { password: target.password } : {}),
      ...(target.tls ? { tls: {} } : {}),
    },
  };
}

const SEAL_VERSION = 'h1';
const SEAL_HEX = 64;

function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

function fromHex(hex: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[0-9a-f]*$/.test(hex) || hex.length % 2 !== 0) return undefined;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/**
 * HMAC-SHA256 seals: `h1.<hex mac>.<payload>`, the MAC over the context (which key or channel)
 * and the payload, so a sealed value cannot be moved to another key or channel.
 */
export class Sealer {
  private key: Promise<CryptoKey> | undefined;
  constructor(private readonly secret: string) {
    if (secret === '') throw new Error('the fleet secret is empty');
  }

  private cryptoKey(): Promise<CryptoKey> {
    this.key ??= crypto.subtle.importKey('raw', new TextEncoder().encode(this.secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
    return this.key;
  }

  private static input(context: string, payload: string): Uint8Array<ArrayBuffer> {
    return new TextEncoder().encode(`${SEAL_VERSION}\n${context}\n${payload}`);
  }

  async seal(context: string, payload: string): Promise<string> {
    const mac = new Uint8Array(await crypto.subtle.sign('HMAC', await this.cryptoKey(), Sealer.input(context, payload)));
    return `${SEAL_VERSION}.${toHex(mac)}.${payload}`;
  }

  /** the payload, or undefined when the seal is missing, malformed or wrong */
  async open(context: string, sealed: string): Promise<string | undefined> {
    const head = SEAL_VERSION.length + 1;
    if (!sealed.startsWith(`${SEAL_VERSION}.`) || sealed.charAt(head + SEAL_HEX) !== '.') return undefined;
    const mac = fromHex(sealed.slice(head, head + SEAL_HEX));
    if (!mac) return undefined;
    const payload = sealed.slice(head + SEAL_HEX + 1);
    const ok = await crypto.subtle.verify('HMAC', await this.cryptoKey(), mac, Sealer.input(context, payload));
    return ok ? payload : undefined;
  }
}

export class RedisCache implements Cache {
  readonly kind = 'redis' as const;
  private readonly client: Redis | Cluster;
  private ok = false;
  private readonly prefix: string;
  private subscriber: Redis | Cluster | undefined;
  private readonly handlers = new Map<string, ((m: string) => void)[]>();
  private readonly connectWaitMs: number;
  private readonly noSubscribe: boolean;
  private readonly sealer: Sealer;
  /** values and messages refused because their seal did not verify (forged, tampered, or unsealed) */
  rejected = 0;

  constructor(options: RedisCacheOptions) {
    this.connectWaitMs = options.connectWaitMs ?? 1000;
    this.noSubscribe = options.subscribe === false;
    this.sealer = new Sealer(options.secret);
    // keyPrefix applies to keys, not to pub/sub channel names: prefix those by hand
    this.prefix = options.keyPrefix;
    const common = {
      keyPrefix: options.keyPrefix,
      commandTimeout: options.commandTimeoutMs ?? 250,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      lazyConnect: options.lazy ?? false,
      retryStrategy: (times: number) => Math.min(times * 200, 2000),
    } satisfies RedisOptions;
    const target = redisTarget(options.url, options.cluster);
    this.client = target.kind === 'cluster' ? new Cluster(target.nodes, clusterOptions(target, common)) : new Redis(target.url, common);
    this.client.on('ready', () => {
      this.ok = true;
      this.everReady = true;
    });
    this.client.on('error', () => {
      this.ok = false;
    });
    this.client.on('end', () => {
      this.ok = false;
    });
  }

  private everReady = false;
  private firstConnect: Promise<void> | undefined;

  /**
   * Until the first connection is up, a call waits for it a little (a fresh instance should use
   * the fleet's tables, not rediscover them). Once it has been up, an outage never delays a call.
   */
  private async waitFirstConnect(): Promise<void> {
    if (this.everReady || this.client.status === 'ready') return;
    if (this.client.status === 'wait') {
      // lazy client: connect now
      await this.client.connect().catch(() => undefined);
      return;
    }
    this.firstConnect ??= new Promise<void>((resolve) => {
      const t = setTimeout(resolve, this.connectWaitMs);
      this.client.once('ready', () => {
        clearTimeout(t);
        resolve();
      });
    });
    await this.firstConnect;
  }

  private async guard<T>(fn: () => Promise<T>, fallback: T): Promise<T> {
    await this.waitFirstConnect();
    try {
      const v = await fn();
      this.ok = true;
      return v;
    } catch {
      this.ok = false;
      return fallback;
    }
  }

  private static valueContext(fullKey: string): string {
    return `value ${fullKey}`;
  }

  private static messageContext(fullChannel: string): string {
    return `message ${fullChannel}`;
  }

  /** the value a fleet member stored under `key`; a forged, tampered or unsealed value is a miss */
  async get(key: string): Promise<string | null> {
    const raw = await this.guard(() => this.client.get(key), null);
    if (raw === null) return null;
    const value = await this.sealer.open(RedisCache.valueContext(this.prefix + key), raw);
    if (value === undefined) {
      this.rejected++;
      return null;
    }
    return value;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    const sealed = await this.sealer.seal(RedisCache.valueContext(this.prefix + key), value);
    await this.guard(() => this.client.set(key, sealed, 'PX', Math.max(1, Math.round(ttlMs))), null);
  }

  async del(key: string): Promise<void> {
    await this.guard(() => this.client.del(key), 0);
  }

  async tryLock(key: string, token: string, ttlMs: number): Promise<boolean> {
    return this.guard(async () => (await this.client.set(key, token, 'PX', Math.max(1, Math.round(ttlMs)), 'NX')) === 'OK', false);
  }

  async unlock(key: string, token: string): Promise<void> {
    // compare-and-delete, so a lock that expired and was taken by another instance stays theirs
    await this.guard(() => this.client.eval("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end", 1, key, token), 0);
  }

  async publish(channel: string, message: string): Promise<void> {
    const full = this.prefix + channel;
    const sealed = await this.sealer.seal(RedisCache.messageContext(full), message);
    await this.guard(() => this.client.publish(full, sealed), 0);
  }

  async subscribe(channel: string, onMessage: (message: string) => void): Promise<void> {
    if (this.noSubscribe) return;
    // a subscribed connection can do nothing else: a second connection, reconnecting on its own
    if (!this.subscriber) {
      this.subscriber = this.client instanceof Redis ? this.client.duplicate({ enableOfflineQueue: true }) : this.client.duplicate();
      this.subscriber.on('error', () => undefined);
      this.subscriber.on('message', (ch: string, sealed: string) => {
        const handlers = this.handlers.get(ch);
        if (!handlers) return;
        // only messages a fleet member sealed for this channel reach the handlers
        void this.sealer.open(RedisCache.messageContext(ch), sealed).then((msg) => {
          if (msg === undefined) this.rejected++;
          else for (const h of handlers) h(msg);
        });
      });
    }
    const full = this.prefix + channel;
    this.handlers.set(full, [...(this.handlers.get(full) ?? []), onMessage]);
    // queued until connected; ioredis resubscribes after every reconnect
    void this.subscriber.subscribe(full).catch(() => undefined);
  }

  healthy(): boolean {
    // a lazy client that has not been needed yet counts as healthy
    return this.ok || this.client.status === 'wait';
  }

  async close(): Promise<void> {
    this.subscriber?.disconnect();
    this.client.disconnect();
    return Promise.resolve();
  }

  /**
   * One rate-limit exchange (Cache.rateLease), atomic in one script: the steps of
   * exchangeOnBucket in src/limits/rate-limit.ts, on Redis's own clock (instances' clocks may
   * differ). The key's bucket (hash) and its sharing instances (sorted set) share a hash tag, so
   * Redis Cluster keeps them on one node. Both expire once the bucket would be full again.
   * Note: these counters are not sealed (the script must update them in place); whoever can
   * write Redis can change a key's rate limit, never a route or a credential.
   */
  async rateLease(key: string, request: RateLeaseRequest): Promise<RateLeaseGrant | null> {
    const tag = `rl:{${encodeURIComponent(key)}}`;
    return this.guard(async () => {
      const reply = (await this.client.eval(
        RATE_LEASE_SCRIPT,
        2,
        `${tag}:bucket`,
        `${tag}:instances`,
        request.rate,
        request.burst,
        request.want,
        request.giveBack,
        request.owed,
        request.instance,
        request.activeMs,
      )) as [number, number, number];
      return { granted: Number(reply[0]), instances: Number(reply[1]), remaining: Number(reply[2]) };
    }, null);
  }
}

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
