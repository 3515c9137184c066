/** In-flight requests per cluster member (DESIGN §4): what reader choice balances on. */
import { memberKey } from './types.js';

export class InFlight {
  private readonly counts = new Map<string, number>();

  /** Counts one request on the member until the returned release is called (calling it again does nothing). */
  acquire(cluster: string, address: string): () => void {
    const k = memberKey(cluster, address);
    this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.counts.set(k, (this.counts.get(k) ?? 1) - 1);
    };
  }

  count(cluster: string, address: string): number {
    return this.counts.get(memberKey(cluster, address)) ?? 0;
  }
}
