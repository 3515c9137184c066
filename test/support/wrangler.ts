/** Runs the Worker in workerd, locally and offline, with `wrangler dev`. */
import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';
import { freePort } from './redis.js';

export interface RunningWorker {
  url: string;
  /** the last lines wrangler dev printed (the Worker's console output among them), at most 2000 */
  output: string[];
  stop(): Promise<void>;
}

/** the fleet secret of test gateways (Node and Worker alike; also what bench/worker.ts gets) */
export const FLEET_SECRET = 'test-fleet-secret-0123456789abcdef-0123456789';

/**
 * `vars` become Worker bindings; GATEWAY_SECRET is the test fleet secret unless `vars` sets it
 * (to '' for a Worker without one: empty values are not bound).
 */
export async function startWorker(vars: Record<string, string>, timeoutMs = 90_000, config?: string): Promise<RunningWorker> {
  const port = await freePort();
  const args = [
    'wrangler',
    'dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--inspector-port',
    String(await freePort()),
    '--show-interactive-dev-session=false',
    '--env-file',
    '/dev/null',
    ...(config ? ['--config', config] : []),
  ];
  for (const [k, v] of Object.entries({ GATEWAY_SECRET: FLEET_SECRET, ...vars })) if (v !== '') args.push('--var', `${k}:${v}`);
  const child: ChildProcess = spawn('npx', args, {
    env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_SEND_METRICS: 'false', CI: 'true', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const tail: string[] = [];
  const url = `http://127.0.0.1:${port}`;
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`wrangler dev did not start in ${timeoutMs} ms:\n${tail.slice(-30).join('\n')}`)), timeoutMs);
    for (const stream of [child.stdout!, child.stderr!]) {
      readline.createInterface({ input: stream }).on('line', (line) => {
        tail.push(line);
        if (tail.length > 2000) tail.splice(0, tail.length - 2000);
        if (/Ready on/i.test(line)) {
          clearTimeout(timer);
          resolve();
        }
      });
    }
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`wrangler dev exited (${code}):\n${tail.slice(-30).join('\n')}`));
    });
  });
  await ready;
  // the worker answers once workerd has loaded it
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${url}/health`)).ok) break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    output: tail,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        child.kill('SIGTERM');
      }
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // gone
      }
    },
  };
}
