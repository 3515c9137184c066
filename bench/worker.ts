/**
 * npm run bench:worker: latency of a single-shard read through the Worker (workerd, wrangler dev,
 * offline) with each transport (Query API, Bolt over WebSocket per request, Bolt pooled in a
 * Durable Object), next to the Node gateway and the direct driver, in one run.
 * Also: each Worker's first request (a cold isolate: the gateway is built, Neo4j connected, the
 * routing table discovered), and the deployable bundle's gzipped size. Figures are merged into
 * bench/results.json under "worker".
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import neo4j from 'neo4j-driver';
import { startSandbox } from '../infra/sandbox/run.mjs';
import { startRedis } from '../test/support/redis.js';
import { startWorker } from '../test/support/wrangler.js';
import { startNodeGateway } from '../src/adapters/node/server.js';
import { parseTopology } from '../src/config/load.js';
import { interleavedLatency, round, writeResults } from './support.js';
// @ts-expect-error -- a plain .mjs script without types
import { workerBundleSize } from '../scripts/worker-size.mjs';

const PASSWORD = 'bench-pass';
const KEY = 'bench-key-0123456789';
const N = Number(process.env.BENCH_REQUESTS ?? 300);

async function main(): Promise<void> {
  const log = (s: string) => process.stdout.write(s + '\n');
  const [sandbox, redis] = await Promise.all([startSandbox({ password: PASSWORD, instances: [{ name: 'w' }] }), startRedis()]);
  const inst = sandbox.instances.w!;
  const topology = {
    regions: { local: { lat: 0, lon: 0 } },
    defaultRegion: 'local',
    clusters: {
      c: {
        routers: [`neo4j://127.0.0.1:${inst.bolt}`],
        auth: { user: 'neo4j', passwordEnv: 'NEO4J_PASSWORD_C' },
        members: { [`127.0.0.1:${inst.bolt}`]: { region: 'local', http: inst.httpUri } },
      },
    },
    shards: { s: { cluster: 'c', database: 'neo4j' } },
    apiKeys: [{ id: 'bench', sha256: createHash('sha256').update(KEY).digest('hex'), databases: ['*'] }],
  };
  const vars = { GATEWAY_CONFIG: JSON.stringify(topology), NEO4J_PASSWORD_C: PASSWORD };
  const workers = {
    'Worker, Query API over fetch': await startWorker(vars),
    'Worker, Bolt over WebSocket': await startWorker({ ...vars, GATEWAY_TRANSPORT: 'bolt' }),
    'Worker, Bolt pooled in a Durable Object': await startWorker({ ...vars, GATEWAY_TRANSPORT: 'bolt-pooled' }),
    'Worker, Query API, Redis behind memory': await startWorker({ ...vars, GATEWAY_REDIS_URL: redis.url }),
  };
  // the baseline in workerd: a Worker that only forwards the request to Neo4j's Query API
  const minimal = await startWorker({ NEO4J_HTTP: inst.httpUri, NEO4J_PASSWORD: PASSWORD }, 90_000, 'bench/minimal-worker/wrangler.toml');
  const node = await startNodeGateway({ topology: parseTopology(topology), env: { NEO4J_PASSWORD_C: PASSWORD }, port: 0 });
  const driver = neo4j.driver(inst.boltUri, neo4j.auth.basic('neo4j', PASSWORD));
  try {
    const body = JSON.stringify({ statement: 'RETURN 1 AS x', accessMode: 'READ' });
    const post = (url: string) => async () => {
      const r = await fetch(`${url}/db/s/query/v2`, { method: 'POST', body, headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` } });
      await r.arrayBuffer();
      if (r.status !== 202) throw new Error(`status ${r.status}`);
    };
    // cold isolates first: each Worker's very first request
    const cold: Record<string, number> = {};
    for (const [name, w] of Object.entries(workers)) {
      const t = performance.now();
      await post(w.url)();
      cold[name] = performance.now() - t;
    }
    const rows = ['| path | p50 ms | p99 ms |', '| --- | ---: | ---: |'];
    const p50: Record<string, number> = {};
    const DIRECT = 'direct neo4j-driver (Bolt, pooled)';
    const NODE = 'Node gateway (Bolt, pooled)';
    const FLOOR = 'Worker GET /health (no Neo4j: the wrangler dev + workerd floor)';
    const THINNEST = "thinnest Worker: one fetch to Neo4j's Query API, body passed through";
    const HTTP_DIRECT = "Neo4j's Query API called directly (what the fetch transport does per statement)";
    // every path in the same rounds (one request each, rotating), so drift and warm-up weigh alike
    const measured = await interleavedLatency(
      {
        [DIRECT]: async () => {
          const s = driver.session({ database: 'neo4j', defaultAccessMode: neo4j.session.READ });
          try {
            await s.run('RETURN 1 AS x');
          } finally {
            await s.close();
          }
        },
        [NODE]: post(node.url),
        [FLOOR]: async () => {
          const r = await fetch(`${workers['Worker, Query API over fetch'].url}/health`);
          await r.arrayBuffer();
        },
        ...Object.fromEntries(Object.entries(workers).map(([name, w]) => [name, post(w.url)])),
        [THINNEST]: async () => {
          const r = await fetch(`${minimal.url}/db/neo4j/query/v2`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
          await r.arrayBuffer();
          if (r.status !== 202) throw new Error(`minimal worker: status ${r.status}`);
        },
        [HTTP_DIRECT]: async () => {
          const r = await fetch(`${inst.httpUri}/db/neo4j/query/v2`, {
            method: 'POST',
            body,
            headers: { 'content-type': 'application/json', authorization: `Basic ${btoa(`neo4j:${PASSWORD}`)}` },
          });
          await r.arrayBuffer();
        },
      },
      N,
      30,
    );
    for (const [name, l] of Object.entries(measured)) {
      rows.push(`| ${name} | ${l.p50.toFixed(2)} | ${l.p99.toFixed(2)} |`);
      if (name in workers) p50[name] = l.p50;
    }
    const direct = measured[DIRECT]!;
    const n = measured[NODE]!;
    const floor = measured[FLOOR]!;
    const thinnest = measured[THINNEST]!;
    const httpDirect = measured[HTTP_DIRECT]!;
    log(`single-shard read (RETURN 1), ${N} rounds of one sequential request to each path (rotating order) after 30 warm-up rounds, loopback:`);
    log(rows.join('\n'));
    log('');
    log('first request of a fresh isolate (gateway built, Neo4j connected, routing table discovered):');
    for (const [name, ms] of Object.entries(cold)) log(`  ${name}: ${ms.toFixed(1)} ms`);
    execFileSync('npx', ['wrangler', 'deploy', '--dry-run', '--minify', '--outdir', 'dist/worker-deploy'], {
      stdio: 'ignore',
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
    });
    const bundle = workerBundleSize() as { rawKiB: number; gzipKiB: number };
    log(`deployable bundle: ${bundle.rawKiB.toFixed(1)} KiB, ${bundle.gzipKiB.toFixed(1)} KiB gzipped`);
    const fetchP50 = p50['Worker, Query API over fetch']!;
    writeResults(
      {
        worker: {
          p50Ms: {
            directDriver: round(direct.p50, 2),
            nodeGateway: round(n.p50, 2),
            workerHealthFloor: round(floor.p50, 2),
            directQueryApi: round(httpDirect.p50, 2),
            thinnestWorker: round(thinnest.p50, 2),
            ...Object.fromEntries(Object.entries(p50).map(([k, v]) => [k, round(v, 2)])),
          },
          p50VsDirectQueryApi: round(fetchP50 / httpDirect.p50),
          p50VsThinnestWorker: round(fetchP50 / thinnest.p50),
          boltP50VsDirectQueryApi: round(p50['Worker, Bolt over WebSocket']! / httpDirect.p50),
          pooledBoltP50VsDirectQueryApi: round(p50['Worker, Bolt pooled in a Durable Object']! / httpDirect.p50),
          coldFirstRequestMs: Object.fromEntries(Object.entries(cold).map(([k, v]) => [k, round(v, 1)])),
          bundleKiB: round(bundle.rawKiB, 1),
          bundleKiBGzip: round(bundle.gzipKiB, 1),
        },
      },
      { requests: N, warmup: 30 },
    );
    log('figures written to bench/results.json');
  } finally {
    await driver.close();
    await node.stop();
    for (const w of Object.values(workers)) await w.stop();
    await minimal.stop();
    await redis.stop();
    await sandbox.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:worker failed: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
