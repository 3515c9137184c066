/** Shared by the bench scripts. */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';

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

/**
 * p50/p99 of each of several paths measured in rounds (one request to each per round, the order
 * rotating), so the machine's drift and warm-up weigh on all of them alike and their ratios are
 * comparable; `warmup` unmeasured rounds first
 */
export async function interleavedLatency<K extends string>(
  runs: Record<K, () => Promise<void>>,
  n: number,
  warmup = 30,
): Promise<Record<K, { p50: number; p99: number }>> {
  const names = Object.keys(runs) as K[];
  for (let i = 0; i < warmup; i++) for (const k of names) await runs[k]();
  const lat = Object.fromEntries(names.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < names.length; j++) {
      const k = names[(i + j) % names.length]!;
      const t = performance.now();
      await runs[k]();
      lat[k].push(performance.now() - t);
    }
  }
  const out = {} as Record<K, { p50: number; p99: number }>;
  for (const k of names) {
    const l = lat[k].sort((a, b) => a - b);
    out[k] = { p50: l[Math.floor(n / 2)]!, p99: l[Math.min(n - 1, Math.floor(n * 0.99))]! };
  }
  return out;
}

export const RESULTS_FILE = 'bench/results.json';

/** where the figures were measured: compare results.json files only from like machines */
function device(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    platform: `${os.platform()} ${os.release()}`,
    node: process.version,
  };
}

function commit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head}+dirty` : head;
  } catch {
    return 'unknown';
  }
}

/**
 * Merges one bench script's figures into bench/results.json: the keys given replace the same keys
 * there (so `npm run bench` and `npm run bench:worker`, or BENCH_ONLY parts, fill one file), and
 * each part records when, on which commit and with which parameters it was measured.
 */
export function writeResults(parts: Record<string, unknown>, parameters: Record<string, unknown>): void {
  let current: Record<string, unknown> = {};
  if (existsSync(RESULTS_FILE)) {
    try {
      current = JSON.parse(readFileSync(RESULTS_FILE, 'utf8')) as Record<string, unknown>;
    } catch {
      current = {};
    }
  }
  const measured = { at: new Date().toISOString(), commit: commit(), parameters };
  const runs = { ...((current.runs as Record<string, unknown> | undefined) ?? {}) };
  for (const key of Object.keys(parts)) runs[key] = measured;
  const next = { ...current, ...parts, device: device(), runs };
  writeFileSync(RESULTS_FILE, JSON.stringify(next, null, 2) + '\n');
}

/** figures rounded for the file (ratios to 3 digits, times to 0.01 ms) */
export const round = (x: number, digits = 3): number => (Number.isFinite(x) ? Number(x.toFixed(digits)) : x);
