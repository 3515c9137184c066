/**
 * Redis cache (ioredis): shared by every gateway instance. Failures never fail a request: a call
 * that fails or takes too long answers "miss" and marks the store unhealthy until it answers again.
 */
import { Redis, Cluster } from 'ioredis';
import type { Cache } from './types.js';

export interface RedisCacheOptions {
  url: string;
  keyPrefix: string;
  /** how long one command may take before it counts as a miss */
  commandTimeoutMs?: number;
  /** how long calls wait for the very first connection (default 1000 ms) */
  connectWaitMs?: number;
  /** use Redis Cluster (several seed URLs separated by commas also select it) */
  cluster?: boolean;
}

export class RedisCache implements Cache {
  readonly kind = 'redis' as const;
  private readonly client: Redis | Cluster;
  private ok = false;
  private readonly connectWaitMs: number;

  constructor(options: RedisCacheOptions) {
    this.connectWaitMs = options.connectWaitMs ?? 1000;
    const common = {
      keyPrefix: options.keyPrefix,
      commandTimeout: options.commandTimeoutMs ?? 250,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      lazyConnect: false,
      retryStrategy: (times: number) => Math.min(times * 200, 2000),
    };
    const urls = options.url.split(',').map((u) => u.trim()).filter(Boolean);
    if (options.cluster || urls.length > 1) {
      this.client = new Cluster(
        urls.map((u) => {
          const p = new URL(u);
          return { host: p.hostname, port: Number(p.port || 6379) };
        }),
        { keyPrefix: options.keyPrefix, enableOfflineQueue: false, redisOptions: { ...common } },
      );
    } else {
      this.client = new Redis(urls[0] ?? options.url, common);
    }
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

  get(key: string): Promise<string | null> {
    return this.guard(() => this.client.get(key), null);
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await this.guard(() => this.client.set(key, value, 'PX', Math.max(1, Math.round(ttlMs))), null);
  }

  async del(key: string): Promise<void> {
    await this.guard(() => this.client.del(key), 0);
  }

  healthy(): boolean {
    return this.ok;
  }

  async close(): Promise<void> {
    this.client.disconnect();
    return Promise.resolve();
  }
}
