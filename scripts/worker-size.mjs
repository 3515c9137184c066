// Prints the gzipped size of what `wrangler deploy --dry-run --minify --outdir dist/worker-deploy` produced.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

const dir = 'dist/worker-deploy';
let raw = 0;
let gz = 0;
for (const f of readdirSync(dir)) {
  const p = path.join(dir, f);
  if (!statSync(p).isFile() || f.endsWith('.map')) continue;
  const b = readFileSync(p);
  raw += b.length;
  gz += gzipSync(b, { level: 9 }).length;
}
const budget = 1024 * 1024;
process.stdout.write(`worker bundle: ${(raw / 1024).toFixed(1)} KiB, ${(gz / 1024).toFixed(1)} KiB gzipped (budget ${budget / 1024} KiB gzipped)\n`);
if (gz > budget) {
  process.stderr.write('over budget\n');
  process.exit(1);
}
