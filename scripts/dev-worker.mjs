// `npm run dev:worker`: the Worker in workerd (wrangler dev, local and offline) against `npm start`'s
// Neo4j sandbox, with no manual step. On first run it copies .dev.vars.example (the sample topology,
// the sandbox passwords and a development fleet secret) to .dev.vars, which wrangler binds and git
// ignores; an existing .dev.vars is never touched. Then it runs wrangler dev on 127.0.0.1:8788
// (`npm start` holds 8787; WORKER_PORT overrides), forwarding any extra arguments.
// It must never write anything but .dev.vars, and never print the values it binds.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const devVars = path.join(root, '.dev.vars');
const example = path.join(root, '.dev.vars.example');

if (!existsSync(devVars)) {
  copyFileSync(example, devVars);
  process.stderr.write('dev-worker: created .dev.vars from .dev.vars.example (development values; edit .dev.vars to change them)\n');
}

const extra = process.argv.slice(2);
const has = (flag) => extra.some((a) => a === flag || a.startsWith(`${flag}=`));
const args = ['dev'];
if (!has('--port')) args.push('--port', process.env.WORKER_PORT ?? '8788');
if (!has('--ip')) args.push('--ip', '127.0.0.1');
args.push(...extra);

const wrangler = path.join(path.dirname(createRequire(import.meta.url).resolve('wrangler/package.json')), 'bin/wrangler.js');
const child = spawn(process.execPath, [wrangler, ...args], {
  cwd: root,
  stdio: 'inherit',
  // offline: no request.cf lookup (the request region falls back to GATEWAY_REGION / defaultRegion)
  env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: process.env.CLOUDFLARE_CF_FETCH_ENABLED ?? 'false' },
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
