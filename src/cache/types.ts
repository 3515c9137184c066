/** The Cache port: a small shared key-value store (in-process memory, or Redis for a fleet). */
export interface Cache {
  readonly kind: 'memory' | 'redis';
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  del(key: string): Promise<void>;
  /** true when the store answered its last call (memory: always) */
  healthy(): boolean;
  close(): Promise<void>;
}
