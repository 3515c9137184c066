/**
 * Member health (DESIGN §4): a member that failed is ejected for a back-off period that doubles
 * per consecutive failure. When the period ends the member is due for a probe; it stays unhealthy
 * until a probe succeeds, and a failed probe ejects it again, for longer. This module keeps the
 * books only: the probe itself (RETURN 1) is run by the router.
 */
import { memberKey, type MemberHealth } from './types.js';

export interface MemberHealthOptions {
  now?: () => number;
  /** first ejection period after a failure; doubles per failure */
  ejectMs?: number;
  /** the longest ejection period */
  maxEjectMs?: number;
}

export class MemberHealthBook {
  /** members with a probe under way (this process only) */
  private readonly probing = new Set<string>();
  private readonly now: () => number;
  private readonly ejectMs: number;
  private readonly maxEjectMs: number;

  /** `health`: ejected members by memberKey (RoutingState.health); members without an entry are healthy */
  constructor(
    private readonly health: Map<string, MemberHealth> = new Map(),
    options: MemberHealthOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.ejectMs = options.ejectMs ?? 1000;
    this.maxEjectMs = options.maxEjectMs ?? 30000;
  }

  /** True unless the member was ejected and no probe has succeeded since (no side effects). */
  isHealthy(cluster: string, address: string): boolean {
    return !this.health.has(memberKey(cluster, address));
  }

  failures(cluster: string, address: string): number {
    return this.health.get(memberKey(cluster, address))?.failures ?? 0;
  }

  /** A member failed: eject it for a back-off period (doubling per consecutive failure). Returns the period (ms). */
  markFailed(cluster: string, address: string): number {
    const k = memberKey(cluster, address);
    const h = this.health.get(k) ?? { failures: 0, ejectedUntil: 0 };
    h.failures++;
    const period = Math.min(this.maxEjectMs, this.ejectMs * 2 ** (h.failures - 1));
    h.ejectedUntil = this.now() + period;
    this.health.set(k, h);
    return period;
  }

  /** how much longer the member stays ejected (ms; 0 when it is not, or its period has ended) */
  ejectedForMs(cluster: string, address: string): number {
    const h = this.health.get(memberKey(cluster, address));
    return h ? Math.max(0, h.ejectedUntil - this.now()) : 0;
  }

  markHealthy(cluster: string, address: string): void {
    this.health.delete(memberKey(cluster, address));
  }

  /** The members among `addresses` whose ejection has ended and that no probe is checking yet (no side effects). */
  dueForProbe(cluster: string, addresses: readonly string[]): string[] {
    const now = this.now();
    return addresses.filter((address) => {
      const k = memberKey(cluster, address);
      const h = this.health.get(k);
      return h !== undefined && h.ejectedUntil <= now && !this.probing.has(k);
    });
  }

  /** Claims the member's probe: false when it is not due or a probe is already under way. */
  beginProbe(cluster: string, address: string): boolean {
    if (this.dueForProbe(cluster, [address]).length === 0) return false;
    this.probing.add(memberKey(cluster, address));
    return true;
  }

  /** Records a probe's outcome: success restores the member, failure ejects it again, for longer. */
  endProbe(cluster: string, address: string, ok: boolean): void {
    if (ok) this.markHealthy(cluster, address);
    else this.markFailed(cluster, address);
    this.probing.delete(memberKey(cluster, address));
  }
}
