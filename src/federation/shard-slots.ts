/**
 * Statements one composite request runs at once on one shard (limits.maxShardStatementsPerRequest).
 * A UNION of many parts, each of which may run on every shard, would otherwise open as many
 * sessions at once on each member as it has parts, and one request could take every Bolt thread
 * of a member (Neo4j then refuses the others, this request's own routing table refresh included).
 * Statements past the limit wait, first come first served, for one of the request's own statements
 * on that shard to finish. Plain in-memory counters of one request, no clock and no I/O.
 */
export class ShardSlots {
  private readonly running = new Map<string, number>();
  private readonly waiting = new Map<string, (() => void)[]>();

  constructor(private readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`ShardSlots needs a positive integer, got ${max}.`);
  }

  /** statements of this request running on `shard` now */
  inFlight(shard: string): number {
    return this.running.get(shard) ?? 0;
  }

  /** runs `fn` once a slot on `shard` is free, and frees the slot when it settles */
  async run<T>(shard: string, fn: () => Promise<T>): Promise<T> {
    await this.take(shard);
    try {
      return await fn();
    } finally {
      this.give(shard);
    }
  }

  private take(shard: string): Promise<void> | void {
    const n = this.running.get(shard) ?? 0;
    if (n < this.max) {
      this.running.set(shard, n + 1);
      return;
    }
    return new Promise<void>((resolve) => {
      const queue = this.waiting.get(shard) ?? [];
      queue.push(resolve);
      this.waiting.set(shard, queue);
    });
  }

  private give(shard: string): void {
    const queue = this.waiting.get(shard);
    const next = queue?.shift();
    if (next) {
      // the slot passes straight to the next waiter: the running count stays
      if (queue!.length === 0) this.waiting.delete(shard);
      next();
      return;
    }
    const left = (this.running.get(shard) ?? 1) - 1;
    if (left <= 0) this.running.delete(shard);
    else this.running.set(shard, left);
  }
}
