/**
 * npm run bench: the gateway against its baselines, in one run, at the same concurrency.
 *   direct  - the neo4j-driver called in-process (no HTTP at all)
 *   proxy   - the thinnest hono proxy (bench/thin-proxy.ts), its own process
 *   gateway - neo4j-edge-gateway (Node adapter), its own process, auth on, Redis configured
 * Workloads: a trivial read, a one-hop MATCH, a 9:1 read/write mix. Prints req/s, p50, p99, the
 * ratios, the gateway's peak RSS, and Redis commands per gateway request (the hot path must make none).
 * Fan-out: composites of 2, 4 and 8 shards, each shard its own Neo4j instance with a latency that
 * burns no CPU (apoc.util.sleep, BENCH_FAN_LATENCY_MS, one shard slower: BENCH_FAN_SLOW_MS), next to
 * the slowest shard alone and to asking the shards one after another.
 * Streamed merges: a composite answer of 50 000 and 500 000 rows (concatenated, and k-way merged
 * by ORDER BY), each from a gateway process of its own, streamed (the default) and held whole
 * (limits.streamAfterRows past the result): peak RSS over the process's idle RSS, time to first
 * byte and to the end.
 * Every figure also goes to bench/results.json (merged with what bench:worker wrote there).
 * Env: BENCH_SECONDS (default 10), BENCH_CONNECTIONS (default 16), BENCH_ONLY=fanout|workloads|streaming,
 * BENCH_WORKLOAD (only the workloads whose name contains it, e.g. "one-hop", for a profile of one),
 * BENCH_ROUNDS (default 4: the proxy and the gateway take turns, ABBA, SECONDS / ROUNDS each),
 * BENCH_GATEWAY_NODE_FLAGS (Node flags for the gateway process, e.g. --max-old-space-size=96).
 */
import autocannon from 'autocannon';
import { build } from 'esbuild';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import readline from 'node:readline';
import neo4j from 'neo4j-driver';
import { Redis } from 'ioredis';
import { startSandbox } from '../infra/sandbox/run.mjs';
import { freePort, startRedis } from '../test/support/redis.js';
import { round, sequentialLatency, writeResults } from './support.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
/** the proxy and the gateway take turns: ROUNDS rounds of SECONDS / ROUNDS each, so drift on the shared machine weighs on both */
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 4));
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const PASSWORD = 'bench-pass';
const KEY = 'bench-key-0123456789';
const FAN_LATENCY_MS = Number(process.env.BENCH_FAN_LATENCY_MS ?? 20);
const FAN_SLOW_MS = Number(process.env.BENCH_FAN_SLOW_MS ?? 30);
const FAN_SHARDS = 8;
const ONLY = process.env.BENCH_ONLY;
/** whether this run measures a part (BENCH_ONLY names one; absent: all) */
const measures = (part: 'workloads' | 'fanout' | 'streaming') => ONLY === undefined || ONLY === part;

interface Figures {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

interface Step {
  statement: string;
  parameters: Record<string, unknown>;
  accessMode: 'READ' | 'WRITE';
}
const READ_ONE_HOP: Step = { statement: 'MATCH (u:User {id: $id})-[:FOLLOWS]->(f:User) RETURN f.name AS name', parameters: { id: 42 }, accessMode: 'READ' };
const WORKLOADS: { name: string; steps: Step[] }[] = [
  { name: 'trivial read', steps: [{ statement: 'RETURN 1 AS x', parameters: {}, accessMode: 'READ' }] },
  { name: 'one-hop MATCH', steps: [READ_ONE_HOP] },
  {
    // warm routing cache; 9 reads to 1 write
    name: 'read-heavy mix 9:1',
    steps: [
      ...Array.from({ length: 9 }, (_, i) => ({ ...READ_ONE_HOP, parameters: { id: i * 97 } })),
      { statement: 'CREATE (:Event {at: timestamp()})', parameters: {}, accessMode: 'WRITE' as const },
    ],
  },
];

function spawnJsonLine(cmd: string, args: string[], env: Record<string, string>): Promise<{ child: ChildProcess; line: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    const rl = readline.createInterface({ input: child.stdout! });
    // the first line that is a ready line: a JSON object (a port, or the gateway's "listening" log line)
    const onLine = (l: string) => {
      let parsed: Record<string, unknown> | undefined;
      try {
        parsed = JSON.parse(l) as Record<string, unknown>;
      } catch {
        parsed = undefined;
      }
      if (parsed && (parsed.port !== undefined || parsed.msg === undefined)) {
        rl.off('line', onLine);
        resolve({ child, line: parsed });
      } else if (!parsed) {
        rl.off('line', onLine);
        reject(new Error(`unexpected output: ${l}`));
      }
    };
    rl.on('line', onLine);
    child.once('exit', (code) => reject(new Error(`${cmd} exited with ${code}`)));
  });
}

/**
 * Starts a server that listens on `port` and waits until its /health answers (whatever it logs:
 * the gateway may run with LOG_LEVEL=warn and print nothing at start).
 */
async function spawnListening(
  cmd: string,
  args: string[],
  env: Record<string, string>,
  port: number,
): Promise<{ child: ChildProcess; line: { port: number } }> {
  const child = spawn(cmd, args, { env: { ...process.env, ...env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'inherit'] });
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  for (let i = 0; i < 600; i++) {
    if (exited !== undefined) throw new Error(`${cmd} exited with ${exited}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/health`)).ok) return { child, line: { port } };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error(`${cmd} did not answer /health on port ${port} in 60 s`);
}

/** user+system CPU time of a process, in ms (from /proc) */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/**
 * bundles an entry to plain JS (as deployed: `npm run build`'s options, code split, so what the
 * gateway loads only when needed stays out until then), so neither server pays for on-the-fly
 * TypeScript; returns the entry's output file
 */
async function bundle(entry: string, outdir: string): Promise<string> {
  await build({
    entryPoints: [entry],
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outdir,
    outExtension: { '.js': '.mjs' },
    logLevel: 'silent',
  });
  return `${outdir}/${entry.split('/').pop()!.replace(/\.ts$/, '.mjs')}`;
}

function currentRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

async function cannon(url: string, steps: Step[], headers: Record<string, string>, seconds = SECONDS): Promise<Figures & { requests: number }> {
  const r = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    requests: steps.map((st) => ({ method: 'POST', body: JSON.stringify(st) })),
    connections: CONNECTIONS,
    duration: seconds,
  });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.non2xx, requests: r.requests.total };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** one target's rounds, pooled: requests and CPU over all rounds, latency the median of the rounds' */
interface Pooled extends Figures {
  cpuUsPerRequest: number;
}

/** one target's run in one round */
interface Round {
  figures: Figures & { requests: number };
  cpuMs: number;
  seconds: number;
}

function pool(rounds: Round[]): Pooled {
  const requests = rounds.reduce((n, r) => n + r.figures.requests, 0);
  const seconds = rounds.reduce((n, r) => n + r.seconds, 0);
  const cpu = rounds.reduce((n, r) => n + r.cpuMs, 0);
  return {
    rps: requests / seconds,
    p50: median(rounds.map((r) => r.figures.p50)),
    p99: median(rounds.map((r) => r.figures.p99)),
    errors: rounds.reduce((n, r) => n + r.figures.errors, 0),
    cpuUsPerRequest: (cpu * 1000) / Math.max(1, requests),
  };
}

async function directDriver(uri: string, w: (typeof WORKLOADS)[number]): Promise<Figures> {
  const driver = neo4j.driver(uri, neo4j.auth.basic('neo4j', PASSWORD), { maxConnectionPoolSize: CONNECTIONS * 2 });
  const lat: number[] = [];
  let errors = 0;
  const until = performance.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      let i = 0;
      while (performance.now() < until) {
        const st = w.steps[i++ % w.steps.length]!;
        const t = performance.now();
        const session = driver.session({ database: 'neo4j', defaultAccessMode: st.accessMode === 'READ' ? neo4j.session.READ : neo4j.session.WRITE });
        try {
          await session.run(st.statement, st.parameters);
          lat.push(performance.now() - t);
        } catch {
          errors++;
        } finally {
          await session.close();
        }
      }
    }),
  );
  await driver.close();
  lat.sort((a, b) => a - b);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? NaN;
  return { rps: lat.length / SECONDS, p50: q(0.5), p99: q(0.99), errors };
}

async function redisCommands(url: string): Promise<number> {
  const r = new Redis(url);
  const info = await r.info('commandstats');
  r.disconnect();
  let total = 0;
  for (const m of info.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)) if (m[1] !== 'info') total += Number(m[2]);
  return total;
}

async function main(): Promise<void> {
  const log = (s: string) => process.stdout.write(s + '\n');
  log(`bench: ${SECONDS}s per target and workload in ${ROUNDS} alternating rounds, ${CONNECTIONS} concurrent connections, ${WORKLOADS.length} workloads`);
  // fan-out shards: one Neo4j instance each, with apoc.util.sleep registered (latency without CPU)
  const fanShards = Array.from({ length: FAN_SHARDS }, (_, i) => `s${i + 1}`);
  const fanLatency = (i: number) => (i === FAN_SHARDS - 1 ? FAN_SLOW_MS : FAN_LATENCY_MS);
  const [sandbox, redis] = await Promise.all([
    startSandbox({
      password: PASSWORD,
      instances: [{ name: 'bench' }, ...fanShards.map((name) => ({ name, procedureClasses: ['apoc.util.Utils'] }))],
    }),
    startRedis(),
  ]);
  const fanInstances = fanShards.map((n) => sandbox.instances[n]!);
  const inst = sandbox.instances.bench!;
  const children: ChildProcess[] = [];
  try {
    // data for the one-hop MATCH: 1000 users, 5 follows each
    const seed = neo4j.driver(inst.boltUri, neo4j.auth.basic('neo4j', PASSWORD));
    await seed.executeQuery('CREATE INDEX user_id IF NOT EXISTS FOR (u:User) ON (u.id)');
    await seed.executeQuery('UNWIND range(0, 999) AS i CREATE (:User {id: i, name: "user-" + i})');
    await seed.executeQuery('MATCH (u:User) UNWIND range(1, 5) AS k MATCH (f:User {id: (u.id + k * 7) % 1000}) CREATE (u)-[:FOLLOWS]->(f)');
    await seed.close();
    // each fan-out shard: 100 users and its latency
    await Promise.all(
      fanInstances.map(async (fi, i) => {
        const d = neo4j.driver(fi.boltUri, neo4j.auth.basic('neo4j', PASSWORD));
        await d.executeQuery('UNWIND range(0, 99) AS i CREATE (:User {id: i, name: "user-" + i})');
        await d.executeQuery('CREATE (:Latency {ms: $ms})', { ms: neo4j.int(fanLatency(i)) });
        await d.close();
      }),
    );

    const topology = {
      regions: { local: { lat: 0, lon: 0 } },
      defaultRegion: 'local',
      clusters: {
        c: { routers: [`neo4j://127.0.0.1:${inst.bolt}`], auth: { user: 'neo4j', passwordEnv: 'BENCH_NEO4J_PASSWORD' } },
        ...Object.fromEntries(
          fanInstances.map((fi, i) => [`f${i}`, { routers: [`neo4j://127.0.0.1:${fi.bolt}`], auth: { user: 'neo4j', passwordEnv: 'BENCH_NEO4J_PASSWORD' } }]),
        ),
      },
      shards: {
        bench: { cluster: 'c', database: 'neo4j' },
        ...Object.fromEntries(fanShards.map((s, i) => [s, { cluster: `f${i}`, database: 'neo4j' }])),
      },
      composites: Object.fromEntries([2, 4, 8].map((n) => [`fan${n}`, { shards: fanShards.slice(0, n) }])),
      apiKeys: [{ id: 'bench', sha256: createHash('sha256').update(KEY).digest('hex'), databases: ['*'], allow: ['procedures:apoc.util.sleep'] }],
    };
    const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
    const gwJs = await bundle('src/adapters/node/main.ts', 'node_modules/.cache/n4gw/bench/gateway');
    const proxyJs = await bundle('bench/thin-proxy.ts', 'node_modules/.cache/n4gw/bench/thin-proxy');
    const gw = await spawnListening(
      process.execPath,
      [...profile, ...(process.env.BENCH_GATEWAY_NODE_FLAGS ?? '').split(' ').filter(Boolean), gwJs],
      {
        GATEWAY_CONFIG: JSON.stringify(topology),
        BENCH_NEO4J_PASSWORD: PASSWORD,
        GATEWAY_REDIS_URL: redis.url,
        // the fleet secret seals what the gateway keeps in Redis
        GATEWAY_SECRET: 'bench-fleet-secret-0123456789abcdefghijklmnop',
      },
      await freePort(),
    );
    children.push(gw.child);
    const proxy = await spawnJsonLine(process.execPath, [proxyJs], { BENCH_BOLT_URI: inst.boltUri, BENCH_PASSWORD: PASSWORD });
    children.push(proxy.child);
    // resident memory before any load: what peak RSS grows from
    const idleRss = { gateway: currentRssMiB(gw.child.pid!), proxy: currentRssMiB(proxy.child.pid!) };
    const gwUrl = `http://127.0.0.1:${gw.line.port as number}/db/bench/query/v2`;
    const proxyUrl = `http://127.0.0.1:${proxy.line.port as number}/db/bench/query/v2`;

    const rows: string[] = [];
    const table = (cols: string[]) => rows.push('| ' + cols.join(' | ') + ' |');
    table(['workload', 'target', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'rps vs proxy', 'rps vs direct', 'p50 added vs proxy', 'server CPU µs/req']);
    table(['---', '---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:']);
    let gwRequests = 0;
    const redisBefore = await redisCommands(redis.url);
    const workloadResults: Record<string, unknown>[] = [];
    for (const w of measures('workloads') ? WORKLOADS.filter((x) => x.name.includes(process.env.BENCH_WORKLOAD ?? '')) : []) {
      const body = w.steps;
      // warm-up: pools, JIT, routing table
      await cannon(gwUrl, body, { authorization: `Bearer ${KEY}` });
      await cannon(proxyUrl, body, {});
      const direct = await directDriver(inst.boltUri, w);
      // the proxy and the gateway take turns (ABBA...), each round measured on its own
      const slice = SECONDS / ROUNDS;
      const proxyRounds: Round[] = [];
      const gatewayRounds: Round[] = [];
      let redisDuringGateway = 0;
      const runProxy = async () => {
        const c0 = cpuMs(proxy.child.pid!);
        const figures = await cannon(proxyUrl, body, {}, slice);
        proxyRounds.push({ figures, cpuMs: cpuMs(proxy.child.pid!) - c0, seconds: slice });
      };
      const runGateway = async () => {
        const r0 = await redisCommands(redis.url);
        const c0 = cpuMs(gw.child.pid!);
        const figures = await cannon(gwUrl, body, { authorization: `Bearer ${KEY}` }, slice);
        gatewayRounds.push({ figures, cpuMs: cpuMs(gw.child.pid!) - c0, seconds: slice });
        redisDuringGateway += (await redisCommands(redis.url)) - r0;
      };
      for (let i = 0; i < ROUNDS; i++) {
        if (i % 2 === 0) {
          await runProxy();
          await runGateway();
        } else {
          await runGateway();
          await runProxy();
        }
      }
      const prox = pool(proxyRounds);
      const gate = pool(gatewayRounds);
      const proxyCpu = prox.cpuUsPerRequest;
      const gwCpu = gate.cpuUsPerRequest;
      const perRound = proxyRounds.map((p, i) => {
        const g = gatewayRounds[i]!;
        return {
          rps: g.figures.requests / Math.max(1, p.figures.requests),
          cpu: g.cpuMs / Math.max(1, g.figures.requests) / (p.cpuMs / Math.max(1, p.figures.requests)),
        };
      });
      const spread = (xs: number[]) => [round(Math.min(...xs)), round(Math.max(...xs))];
      gwRequests += gatewayRounds.reduce((n, r) => n + r.figures.requests, 0);
      const f = (x: number, d = 2) => x.toFixed(d);
      table([w.name, 'direct driver', f(direct.rps, 0), f(direct.p50), f(direct.p99), String(direct.errors), '', '1.00', '', '']);
      table([w.name, 'thin proxy', f(prox.rps, 0), f(prox.p50), f(prox.p99), String(prox.errors), '1.00', f(prox.rps / direct.rps), '0', f(proxyCpu, 0)]);
      table([
        w.name,
        'gateway',
        f(gate.rps, 0),
        f(gate.p50),
        f(gate.p99),
        String(gate.errors),
        f(gate.rps / prox.rps),
        f(gate.rps / direct.rps),
        f(gate.p50 - prox.p50),
        f(gwCpu, 0),
      ]);
      const figures = (x: Figures) => ({ rps: round(x.rps, 1), p50Ms: round(x.p50, 2), p99Ms: round(x.p99, 2), errors: x.errors });
      workloadResults.push({
        name: w.name,
        direct: figures(direct),
        proxy: { ...figures(prox), cpuUsPerRequest: round(proxyCpu, 1) },
        gateway: { ...figures(gate), cpuUsPerRequest: round(gwCpu, 1) },
        gatewayVsProxyRps: round(gate.rps / prox.rps),
        gatewayVsProxyCpu: round(gwCpu / proxyCpu),
        // the same ratios in each round (the spread the pooled figures above come from)
        gatewayVsProxyRpsRounds: spread(perRound.map((r) => r.rps)),
        gatewayVsProxyCpuRounds: spread(perRound.map((r) => r.cpu)),
        gatewayVsDirectRps: round(gate.rps / direct.rps),
        p50AddedVsProxyMs: round(gate.p50 - prox.p50, 2),
        redisCommandsDuringGatewayRun: redisDuringGateway,
      });
      log(
        `  ${w.name}: gateway ${f(gate.rps, 0)} req/s (${f(gate.rps / prox.rps)}x proxy; rounds ${spread(perRound.map((r) => r.rps)).join('-')}x), CPU ${f(gwCpu / proxyCpu)}x (rounds ${spread(perRound.map((r) => r.cpu)).join('-')}x), redis commands during the measured gateway runs: ${redisDuringGateway}`,
      );
    }
    const redisTotal = (await redisCommands(redis.url)) - redisBefore;

    // added latency without queueing: one request at a time
    const lrows: string[] = [
      '| workload | direct p50 ms | proxy p50 ms | gateway p50 ms | gateway added vs proxy (ms) | gateway added vs direct (ms) |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
    ];
    const seqDriver = neo4j.driver(inst.boltUri, neo4j.auth.basic('neo4j', PASSWORD));
    const sequentialResults: Record<string, unknown>[] = [];
    for (const w of measures('workloads') ? WORKLOADS.slice(0, 2) : []) {
      const st = w.steps[0]!;
      const body = JSON.stringify(st);
      const post = (url: string, headers: Record<string, string>) => async () => {
        const r = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
        await r.arrayBuffer();
        if (r.status !== 202) throw new Error(`status ${r.status}`);
      };
      const d = await sequentialLatency(async () => {
        const s = seqDriver.session({ database: 'neo4j', defaultAccessMode: neo4j.session.READ });
        try {
          await s.run(st.statement, st.parameters);
        } finally {
          await s.close();
        }
      }, 1000);
      const p = await sequentialLatency(post(proxyUrl, {}), 1000);
      const g = await sequentialLatency(post(gwUrl, { authorization: `Bearer ${KEY}` }), 1000);
      sequentialResults.push({
        name: w.name,
        directP50Ms: round(d.p50),
        proxyP50Ms: round(p.p50),
        gatewayP50Ms: round(g.p50),
        gatewayAddedVsProxyMs: round(g.p50 - p.p50),
      });
      lrows.push(
        `| ${w.name} | ${d.p50.toFixed(3)} | ${p.p50.toFixed(3)} | ${g.p50.toFixed(3)} | ${(g.p50 - p.p50).toFixed(3)} | ${(g.p50 - d.p50).toFixed(3)} |`,
      );
    }
    await seqDriver.close();

    // fan-out: the composite's latency next to its slowest shard alone, and next to a client that
    // asks the shards one after another (sequential requests, p50 of 200)
    // each shard sleeps its latency (apoc.util.sleep: no CPU), then aggregates its 100 users: the
    // gateway's parallelism is measured, not Neo4j's CPU on two shared cores
    // (a procedure call's result cannot be combined by the composite planner, so the composite is
    // asked with the Fabric idiom that names each shard: the same work on each shard)
    const SHARD_Q = 'MATCH (l:Latency) CALL apoc.util.sleep(l.ms) MATCH (u:User) RETURN u.id % 10 AS k, count(*) AS c';
    const FAN_Q = { statement: `UNWIND graph.names() AS g CALL (g) { USE graph.byName(g) ${SHARD_Q} } RETURN k, sum(c) AS c ORDER BY k`, accessMode: 'READ' };
    const ONE_Q = { statement: `${SHARD_Q} ORDER BY k`, accessMode: 'READ' };
    const fanRows: string[] = [
      '| shards | fan-out p50 ms | slowest single shard p50 ms | fan-out / slowest | one-after-another p50 ms | one-after-another / fan-out |',
      '| ---: | ---: | ---: | ---: | ---: | ---: |',
    ];
    const gwBase = `http://127.0.0.1:${gw.line.port as number}/db/`;
    const postTo =
      (db: string, q: typeof ONE_Q = ONE_Q) =>
      async () => {
        const r = await fetch(gwBase + db + '/query/v2', {
          method: 'POST',
          body: JSON.stringify(q),
          headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
        });
        await r.arrayBuffer();
        if (r.status !== 202) throw new Error(`status ${r.status}`);
      };
    const fanResults: Record<string, unknown>[] = [];
    for (const n of measures('fanout') ? [2, 4, 8] : []) {
      const shards = fanShards.slice(0, n);
      const fan = await sequentialLatency(postTo(`fan${n}`, FAN_Q), 200);
      const singles: number[] = [];
      for (const sh of shards) singles.push((await sequentialLatency(postTo(sh), 200)).p50);
      const slowest = Math.max(...singles);
      const oneByOne = await sequentialLatency(async () => {
        for (const sh of shards) await postTo(sh)();
      }, 200);
      fanResults.push({
        shards: n,
        p50Ms: round(fan.p50, 2),
        slowestSingleShardP50Ms: round(slowest, 2),
        vsSlowest: round(fan.p50 / slowest),
        sequentialP50Ms: round(oneByOne.p50, 2),
        speedupVsSequential: round(oneByOne.p50 / fan.p50),
      });
      fanRows.push(
        `| ${n} | ${fan.p50.toFixed(2)} | ${slowest.toFixed(2)} | ${(fan.p50 / slowest).toFixed(2)} | ${oneByOne.p50.toFixed(2)} | ${(oneByOne.p50 / fan.p50).toFixed(2)} |`,
      );
    }
    log('');
    log(rows.join('\n'));
    log('');
    log('sequential latency (1 request at a time, 1000 requests):');
    log(lrows.join('\n'));
    log('');
    log(
      `fan-out (a Neo4j instance per shard, each sleeping ${FAN_LATENCY_MS} ms, the last ${FAN_SLOW_MS} ms, with apoc.util.sleep; p50 of 200 sequential requests):`,
    );
    log(fanRows.join('\n'));
    log('');

    // streamed merges: one gateway process per measurement, so its peak RSS is that answer's
    const streamRows: string[] = [
      '| shape | rows | mode | idle RSS MiB | peak RSS MiB | peak over idle MiB | first byte ms | whole answer ms | MiB sent |',
      '| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ];
    const streamResults: Record<string, unknown>[] = [];
    const STREAM_SHAPES = [
      { shape: 'concatenation', statement: 'MATCH (u:User) UNWIND range(1, $k) AS i RETURN u.id AS id, i, u.name AS name' },
      { shape: 'ordered merge', statement: 'MATCH (u:User) UNWIND range(1, $k) AS i RETURN i, u.id AS id, u.name AS name ORDER BY i, id' },
    ];
    // fan2: two shards of 100 users each; k rows per user and shard
    // the same under a small old space (--max-old-space-size): live memory, not the garbage V8
    // collects when it likes, decides whether the answer fits
    const HEAP_CAP_MIB = Number(process.env.BENCH_STREAM_HEAP_MIB ?? 64);
    const MODES = ['streamed', 'held whole', `streamed, ${HEAP_CAP_MIB} MiB heap`, `held whole, ${HEAP_CAP_MIB} MiB heap`];
    for (const mode of measures('streaming') ? MODES : []) {
      const held = mode.startsWith('held whole');
      const capped = mode.includes('MiB heap');
      for (const { shape, statement } of STREAM_SHAPES) {
        for (const k of [250, 2500]) {
          const big = {
            ...topology,
            limits: {
              maxRows: 10_000_000,
              maxResultBytes: 2 ** 31,
              requestDeadlineMs: 600_000,
              queryTimeoutMs: 600_000,
              ...(held ? { streamAfterRows: 100_000_000 } : {}),
            },
          };
          const sgw = await spawnListening(
            process.execPath,
            [...(capped ? [`--max-old-space-size=${HEAP_CAP_MIB}`] : []), gwJs],
            { GATEWAY_CONFIG: JSON.stringify(big), BENCH_NEO4J_PASSWORD: PASSWORD, LOG_LEVEL: 'warn' },
            await freePort(),
          );
          try {
            const url = `http://127.0.0.1:${sgw.line.port}/db/fan2/query/v2`;
            const ask = async (kk: number) => {
              const t0 = performance.now();
              const r = await fetch(url, {
                method: 'POST',
                body: JSON.stringify({ statement, parameters: { k: kk }, accessMode: 'READ' }),
                headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
              });
              if (r.status !== 202) throw new Error(`status ${r.status}: ${await r.text()}`);
              const reader = r.body!.getReader();
              let first: number | undefined;
              let bytes = 0;
              let tail = '';
              for (let c = await reader.read(); !c.done; c = await reader.read()) {
                first ??= performance.now() - t0;
                bytes += c.value.byteLength;
                tail = (tail + new TextDecoder().decode(c.value.slice(-200))).slice(-200);
              }
              if (tail.includes('"errors"')) throw new Error(`the answer ended with an error: ${tail}`);
              return { first: first ?? 0, total: performance.now() - t0, bytes };
            };
            // warm: pools, routing tables, the plan
            for (let i = 0; i < 5; i++) await ask(1);
            await new Promise((r) => setTimeout(r, 500));
            const idle = currentRssMiB(sgw.child.pid!);
            const rowsTotal = 2 * 100 * k;
            let m: Awaited<ReturnType<typeof ask>> | undefined;
            let failure: string | undefined;
            try {
              m = await ask(k);
            } catch (err) {
              // under the heap cap an answer held whole may not fit: the process dies
              if (!capped) throw err;
              failure = sgw.child.exitCode !== null || sgw.child.signalCode !== null ? 'the gateway ran out of memory' : String(err);
            }
            const peak = failure ? Number.NaN : peakRssMiB(sgw.child.pid!);
            streamResults.push({
              shape,
              rows: rowsTotal,
              mode,
              ...(capped ? { heapCapMiB: HEAP_CAP_MIB, completed: m !== undefined } : {}),
              idleRssMiB: round(idle, 1),
              ...(m
                ? {
                    peakRssMiB: round(peak, 1),
                    peakOverIdleMiB: round(peak - idle, 1),
                    firstByteMs: round(m.first, 1),
                    totalMs: round(m.total, 1),
                    mibSent: round(m.bytes / 2 ** 20, 1),
                  }
                : { failure }),
            });
            streamRows.push(
              m
                ? `| ${shape} | ${rowsTotal} | ${mode} | ${idle.toFixed(1)} | ${peak.toFixed(1)} | ${(peak - idle).toFixed(1)} | ${m.first.toFixed(1)} | ${m.total.toFixed(1)} | ${(m.bytes / 2 ** 20).toFixed(1)} |`
                : `| ${shape} | ${rowsTotal} | ${mode} | ${idle.toFixed(1)} | ${failure} | | | | |`,
            );
          } finally {
            if (sgw.child.exitCode === null && sgw.child.signalCode === null) {
              await new Promise((r) => {
                sgw.child.once('exit', r);
                sgw.child.kill('SIGTERM');
              });
            }
          }
        }
      }
    }
    if (measures('streaming')) {
      log('streamed merges (a gateway process per row; fan2, two shards of 100 users, k rows per user):');
      log(streamRows.join('\n'));
      log('');
    }
    const rss = { gateway: peakRssMiB(gw.child.pid!), proxy: peakRssMiB(proxy.child.pid!) };
    log(`gateway peak RSS: ${rss.gateway.toFixed(1)} MiB; thin proxy peak RSS: ${rss.proxy.toFixed(1)} MiB`);
    log(`idle RSS before the load: gateway ${idleRss.gateway.toFixed(1)} MiB; thin proxy ${idleRss.proxy.toFixed(1)} MiB`);
    const redisPerRequest = redisTotal / Math.max(1, gwRequests);
    log(`Redis commands per gateway request (measured runs, warm routing cache): ${redisPerRequest.toFixed(4)}`);
    const parts: Record<string, unknown> = {};
    if (measures('workloads')) {
      parts.workloads = workloadResults;
      parts.sequential = sequentialResults;
      parts.peakRssMiB = { gateway: round(rss.gateway, 1), proxy: round(rss.proxy, 1), gatewayVsProxy: round(rss.gateway / rss.proxy) };
      parts.idleRssMiB = { gateway: round(idleRss.gateway, 1), proxy: round(idleRss.proxy, 1) };
      parts.redisCommandsPerRequest = round(redisPerRequest, 4);
    }
    if (measures('fanout')) parts.fanout = fanResults;
    if (measures('streaming')) {
      // per shape: peak RSS over idle at both sizes, streamed and held whole; and whether each
      // answer fitted a small old space (live memory)
      const summary = (shape: string) => {
        const of = (mode: string, rows: number) => streamResults.find((r) => r.shape === shape && r.mode === mode && r.rows === rows);
        const out: Record<string, unknown> = {};
        for (const mode of ['streamed', 'held whole']) {
          const key = mode === 'streamed' ? 'streamed' : 'heldWhole';
          out[key] = {
            peakOverIdleMiB: { rows50k: of(mode, 50_000)?.peakOverIdleMiB, rows500k: of(mode, 500_000)?.peakOverIdleMiB },
            firstByteMs: { rows50k: of(mode, 50_000)?.firstByteMs, rows500k: of(mode, 500_000)?.firstByteMs },
            completedUnderHeapCap: {
              rows50k: of(`${mode}, ${HEAP_CAP_MIB} MiB heap`, 50_000)?.completed,
              rows500k: of(`${mode}, ${HEAP_CAP_MIB} MiB heap`, 500_000)?.completed,
            },
          };
        }
        return out;
      };
      parts.streaming = {
        heapCapMiB: HEAP_CAP_MIB,
        shapes: Object.fromEntries(STREAM_SHAPES.map(({ shape }) => [shape, summary(shape)])),
        runs: streamResults,
      };
    }
    writeResults(parts, {
      seconds: SECONDS,
      rounds: ROUNDS,
      connections: CONNECTIONS,
      fanLatencyMs: FAN_LATENCY_MS,
      fanSlowShardMs: FAN_SLOW_MS,
      only: ONLY ?? 'all',
    });
    log(`figures written to bench/results.json`);
  } finally {
    await Promise.all(
      children.map(
        (c) =>
          new Promise((r) => {
            c.once('exit', r);
            c.kill('SIGTERM');
          }),
      ),
    );
    await redis.stop();
    await sandbox.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
