/** Pure member selection (DESIGN §4): no I/O, no clock. */

export interface Candidate {
  address: string;
  region: string;
  inFlight: number;
  healthy: boolean;
}

/**
 * Regions ordered by distance from `origin` (origin first); ties broken by name so every
 * instance makes the same choice.
 */
export function regionOrder(origin: string, regions: string[], distance: (a: string, b: string) => number): string[] {
  return [...new Set([origin, ...regions])].sort((a, b) => {
    if (a === origin) return -1;
    if (b === origin) return 1;
    const d = distance(origin, a) - distance(origin, b);
    return d !== 0 ? d : a < b ? -1 : a > b ? 1 : 0;
  });
}

/**
 * Picks a reader: the nearest region (by `order`) that has a healthy candidate, then the least
 * in-flight requests among that region's healthy candidates (ties: address order, rotated by
 * `tieBreak` so equal members share load). With `strictRegion`, only that region counts.
 * Unhealthy candidates are used only when no healthy one exists anywhere allowed (better a
 * try than a certain failure).
 */
export function pickReader(candidates: Candidate[], order: string[], opts: { strictRegion?: string; tieBreak?: number } = {}): Candidate | undefined {
  const allowed = opts.strictRegion !== undefined ? candidates.filter((c) => c.region === opts.strictRegion) : candidates;
  if (allowed.length === 0) return undefined;
  const rank = (r: string) => {
    const i = order.indexOf(r);
    return i < 0 ? order.length : i;
  };
  const healthy = allowed.filter((c) => c.healthy);
  const pool = healthy.length > 0 ? healthy : allowed;
  let bestRank = Number.POSITIVE_INFINITY;
  for (const c of pool) bestRank = Math.min(bestRank, rank(c.region));
  const nearest = pool.filter((c) => rank(c.region) === bestRank);
  const least = Math.min(...nearest.map((c) => c.inFlight));
  const ties = nearest.filter((c) => c.inFlight === least).sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  return ties[(opts.tieBreak ?? 0) % ties.length];
}
