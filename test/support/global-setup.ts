/**
 * Integration rig (DESIGN §7): one sandbox JVM with real Neo4j instances and one real
 * redis-server on a free port, shared by every integration test file.
 * Set N4GW_SANDBOX to a file holding a running sandbox's ready line to reuse it.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestProject } from 'vitest/node';
import { startSandbox } from '../../infra/sandbox/run.mjs';
import { startRedis } from './redis.js';
import { bundleWrapper } from './wrapper.js';

export interface SandboxInstance {
  bolt: number;
  http: number;
  boltUri: string;
  httpUri: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    sandbox: { password: string; instances: Record<string, SandboxInstance> };
    redisUrl: string;
    wrapperBundle: string;
    /** POST a sandbox control command ({"cmd":"stop","name":"eu"}) here; empty when the sandbox is reused */
    sandboxControl: string;
  }
}

export const SANDBOX_PASSWORD = 'sandbox-pass';
/** us and eu: two shards in two regions; with ap, three members of a scripted cluster; truth: federation's ground truth */
export const SANDBOX_INSTANCES = ['us', 'eu', 'ap', 'truth'];

export default async function setup(project: TestProject) {
  const started = Date.now();
  const [sandbox, redis, wrapperBundle] = await Promise.all([
    process.env.N4GW_SANDBOX
      ? Promise.resolve({
          reused: true as const,
          ...(JSON.parse(readFileSync(process.env.N4GW_SANDBOX, 'utf8')) as { instances: Record<string, SandboxInstance> }),
        })
      : startSandbox({
          password: SANDBOX_PASSWORD,
          // a reader that cannot reach a client's bookmark gives up quickly (the gateway then reads on the writer)
          settings: { 'db.transaction.bookmark_ready_timeout': '2s' },
          // APOC core's apoc.util.* procedures: a real third-party procedure for the policy tests
          instances: SANDBOX_INSTANCES.map((name) => ({ name, procedureClasses: ['apoc.util.Utils'] })),
        }),
    startRedis(),
    bundleWrapper(),
  ]);
  process.stderr.write(`[rig] sandbox + redis ready in ${Date.now() - started} ms\n`);
  project.provide('sandbox', { password: SANDBOX_PASSWORD, instances: sandbox.instances });
  project.provide('redisUrl', redis.url);
  project.provide('wrapperBundle', wrapperBundle);
  // test files run in workers; they reach the sandbox's stdin control through this loopback relay
  const control = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const sb = sandbox as { command?: (c: unknown) => Promise<unknown> };
      if (!sb.command) {
        res.writeHead(501).end('{"ok":false,"error":"reused sandbox has no control"}');
        return;
      }
      sb.command(JSON.parse(body)).then(
        (answer) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer)),
        (err: unknown) => res.writeHead(500).end(JSON.stringify({ ok: false, error: String(err) })),
      );
    });
  });
  await new Promise<void>((r) => control.listen(0, '127.0.0.1', r));
  project.provide('sandboxControl', `http://127.0.0.1:${(control.address() as AddressInfo).port}`);
  return async () => {
    control.close();
    await redis.stop();
    if (!('reused' in sandbox)) await (sandbox as { stop(): Promise<void> }).stop();
  };
}
