/**
 * The Cache port: a small key-value store shared by the gateway fleet (Redis), or this process's
 * memory. Every call is best-effort: an unreachable store answers "miss" / "not locked" and
 * never fails a request.
 */
export interface Cache {
  readonly kind: 'memory' | 'redis';
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  del(key: string): Promise<void>;
  /** SET key token NX PX ttl: true when this caller now holds the lock */
  tryLock(key: string, token: string, ttlMs: number): Promise<boolean>;
  /** releases the lock if `token` still holds it */
  unlock(key: string, token: string): Promise<void>;
  /** fleet-wide broadcast (Redis pub/sub) */
  publish(channel: string, message: string): Promise<void>;
  subscribe(channel: string, onMessage: (message: string) => void): Promise<void>;
  /** true when the store answered its last call (memory: always) */
  healthy(): boolean;
  close(): Promise<void>;
}
