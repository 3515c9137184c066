// Prints the gzipped size of what `wrangler deploy --dry-run --minify --outdir dist/worker-deploy`
// produced, and fails over the budget. `npm run bench:worker` imports workerBundleSize().
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

export const BUNDLE_DIR = 'dist/worker-deploy';
export const BUDGET_KIB_GZIP = 600;

/** raw and gzipped (level 9) size in KiB of the deployable files in `dir` (source maps excluded) */
export function workerBundleSize(dir = BUNDLE_DIR) {
  let raw = 0;
  let gz = 0;
  for (const f of readdirSync(dir)) {
    const p = path.join(dir, f);
    if (!statSync(p).isFile() || f.endsWith('.map')) continue;
    const b = readFileSync(p);
    raw += b.length;
    gz += gzipSync(b, { level: 9 }).length;
  }
  return { rawKiB: raw / 1024, gzipKiB: gz / 1024 };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { rawKiB, gzipKiB } = workerBundleSize();
  process.stdout.write(`worker bundle: ${rawKiB.toFixed(1)} KiB, ${gzipKiB.toFixed(1)} KiB gzipped (budget ${BUDGET_KIB_GZIP} KiB gzipped)\n`);
  if (gzipKiB > BUDGET_KIB_GZIP) {
    process.stderr.write('over budget\n');
    process.exit(1);
  }
}
