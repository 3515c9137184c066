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
  /**
   * One exchange of the fleet-wide rate limit of `key`, atomic on the store (the algorithm and its
   * in-memory twin: src/limits/rate-limit.ts): refill the key's token bucket, take back the
   * instance's unused tokens and charge what it admitted without a lease, register the instance
   * as sharing the key, and lease it tokens. null when the store did not answer (the caller then
   * limits locally). Stores not shared across instances leave it out.
   */
  rateLease?(key: string, request: RateLeaseRequest): Promise<RateLeaseGrant | null>;
}

/** What an instance sends in one rate-limit exchange. */
export interface RateLeaseRequest {
  /** the key's fleet-wide steady rate (requests per second) */
  rate: number;
  /** the bucket's capacity (requests at once above the steady rate) */
  burst: number;
  /** tokens the instance would like to hold */
  want: number;
  /** unused leased tokens the instance gives back */
  giveBack: number;
  /** requests the instance admitted without a lease (before its first grant), charged to the bucket */
  owed: number;
  /** the instance, as counted among those sharing the key */
  instance: string;
  /** an instance counts as sharing the key this long after its last exchange (ms) */
  activeMs: number;
}

/** What the store answers. */
export interface RateLeaseGrant {
  /** tokens leased to the instance (already taken from the bucket) */
  granted: number;
  /** instances that exchanged for this key within activeMs, this one included */
  instances: number;
  /** whole tokens left in the bucket after the grant (negative: debt) */
  remaining: number;
}
