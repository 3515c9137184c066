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
import { Redis, Cluster, type RedisOptions } from 'ioredis';
import { exchangeRateLease, rateLeaseKeys } from './redis-rate-lease.js';
import { Sealer } from './redis-seal.js';
import { clusterOptions, redisTarget } from './redis-target.js';
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
    await this.guard(
      () => this.client.eval("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end", 1, key, token),
      0,
    );
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

  /** One rate-limit exchange (Cache.rateLease), atomic on Redis: redis-rate-lease.ts. */
  async rateLease(key: string, request: RateLeaseRequest): Promise<RateLeaseGrant | null> {
    const keys = rateLeaseKeys(key);
    return this.guard(() => exchangeRateLease(this.client, keys, request), null);
  }
}
