import type { Cache } from './types.js';

/** In-process cache with per-entry expiry. Plain data only, so it is safe across Worker requests. */
export class MemoryCache implements Cache {
  readonly kind = 'memory' as const;
  private readonly entries = new Map<string, { value: string; expiresAt: number }>();
  constructor(private readonly now: () => number = Date.now) {}

  get(key: string): Promise<string | null> {
    const e = this.entries.get(key);
    if (!e) return Promise.resolve(null);
    if (e.expiresAt <= this.now()) {
      this.entries.delete(key);
      return Promise.resolve(null);
    }
    return Promise.resolve(e.value);
  }

  set(key: string, value: string, ttlMs: number): Promise<void> {
    this.entries.set(key, { value, expiresAt: this.now() + ttlMs });
    return Promise.resolve();
  }

  del(key: string): Promise<void> {
    this.entries.delete(key);
    return Promise.resolve();
  }

  healthy(): boolean {
    return true;
  }

  close(): Promise<void> {
    this.entries.clear();
    return Promise.resolve();
  }
}
