/**
 * How far V8 lets the old space grow on the Node adapter before its next full collection.
 *
 * V8's own policy lets the old space grow to up to about 4x what survived the last full
 * collection. The gateway keeps about 30-35 MiB live (Neo4j's Cypher grammar, the driver, the
 * config schemas, module sources), and every request promotes some short-lived garbage, so under
 * load its resident memory climbed to about 250 MiB for 35 MiB of live data (issue 13's bench;
 * heap traces in the closing note). With growth capped at GATEWAY_HEAP_GROWING_PERCENT of the
 * live heap (default 50) a full collection runs sooner (every second or so under the bench's
 * load, about 10 ms of incremental work each) and memory stays near what is live.
 *
 * This is not a limit: nothing is refused and no answer can run out of memory because of it
 * (`--max-old-space-size` would be one). 0 keeps V8's own policy.
 */
import v8 from 'node:v8';

export const DEFAULT_HEAP_GROWING_PERCENT = 50;

/** applies GATEWAY_HEAP_GROWING_PERCENT (0-1000); returns the percentage applied, or a problem */
export function applyHeapPolicy(env: Record<string, string | undefined>): { percent: number } | { problem: string } {
  const raw = env.GATEWAY_HEAP_GROWING_PERCENT;
  const text = raw?.trim() ?? '';
  const percent = text === '' ? DEFAULT_HEAP_GROWING_PERCENT : /^\d{1,4}$/.test(text) ? Number(text) : Number.NaN;
  if (!(percent >= 0 && percent <= 1000)) {
    return { problem: `GATEWAY_HEAP_GROWING_PERCENT must be an integer from 0 (V8's own policy) to 1000, not ${JSON.stringify(raw)}` };
  }
  // read by V8 at every full collection, so setting it while running takes effect at the next one
  if (percent > 0) v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
  return { percent };
}
