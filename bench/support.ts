/** Shared by the bench scripts. */

/** p50/p99 of `n` sequential runs after `warmup` unmeasured ones (microsecond resolution) */
export async function sequentialLatency(run: () => Promise<void>, n: number, warmup = 50): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < warmup; i++) await run();
  const lat: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await run();
    lat.push(performance.now() - t);
  }
  lat.sort((a, b) => a - b);
  return { p50: lat[Math.floor(n / 2)]!, p99: lat[Math.min(n - 1, Math.floor(n * 0.99))]! };
}
