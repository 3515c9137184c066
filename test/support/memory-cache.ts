import type { Cache } from '../../src/cache/types.js';

/** The Cache port in this process's memory, for unit tests: entries with expiry, locks, pub/sub among the caches of one store. */
export class MemoryCache implements Cache {
  readonly kind = 'memory' as const;
  private readonly entries = new Map<string, { value: string; expiresAt: number }>();
  private readonly handlers = new Map<string, ((m: string) => void)[]>();
  constructor(private readonly now: () => number = Date.now) {}

  private live(key: string): string | null {
    const e = this.entries.get(key);
    if (!e) return null;
    if (e.expiresAt <= this.now()) {
      this.entries.delete(key);
      return null;
    }
    return e.value;
  }

  get(key: string): Promise<string | null> {
    return Promise.resolve(this.live(key));
  }

  set(key: string, value: string, ttlMs: number): Promise<void> {
    this.entries.set(key, { value, expiresAt: this.now() + ttlMs });
    return Promise.resolve();
  }

  del(key: string): Promise<void> {
    this.entries.delete(key);
    return Promise.resolve();
  }

  tryLock(key: string, token: string, ttlMs: number): Promise<boolean> {
    if (this.live(key) !== null) return Promise.resolve(false);
    this.entries.set(key, { value: token, expiresAt: this.now() + ttlMs });
    return Promise.resolve(true);
  }

  unlock(key: string, token: string): Promise<void> {
    if (this.live(key) === token) this.entries.delete(key);
    return Promise.resolve();
  }

  publish(channel: string, message: string): Promise<void> {
    for (const h of this.handlers.get(channel) ?? []) h(message);
    return Promise.resolve();
  }

  subscribe(channel: string, onMessage: (message: string) => void): Promise<void> {
    this.handlers.set(channel, [...(this.handlers.get(channel) ?? []), onMessage]);
    return Promise.resolve();
  }

  healthy(): boolean {
    return true;
  }

  close(): Promise<void> {
    this.entries.clear();
    this.handlers.clear();
    return Promise.resolve();
  }
}
