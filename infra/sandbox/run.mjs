#!/usr/bin/env node
// Local Neo4j test sandbox: builds (if needed) and runs the Java launcher in
// infra/sandbox, which starts N named Neo4j 5.26 Community instances in one JVM.
//
// Library:  import { startSandbox } from './infra/sandbox/run.mjs';
//           const sb = await startSandbox({ password: 'pw', instances: [{ name: 'us' }] });
//           sb.instances.us.httpUri; await sb.command({ cmd: 'stop', name: 'us' }); await sb.stop();
// CLI:      node infra/sandbox/run.mjs [spec.json | --instances a,b,c] [--password pw]
//
// Plain Node ESM, no dependencies.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

export const SANDBOX_DIR = path.dirname(fileURLToPath(import.meta.url));
const TARGET = path.join(SANDBOX_DIR, 'target');
const STAMP = path.join(TARGET, '.sandbox-built');
const CLASSPATH_FILE = path.join(TARGET, 'classpath.txt');
const LOCK_DIR = path.join(SANDBOX_DIR, '.build-lock');

export const DEFAULT_PASSWORD = 'sandbox-pass';
export const DEFAULT_JVM_ARGS = [
  '-Xmx1g',
  '-XX:+UseSerialGC',
  '-XX:-OmitStackTraceInFastThrow',
  '-Dfile.encoding=UTF-8',
  '-Dio.netty.tryReflectionSetAccessible=true',
  '-Djdk.nio.maxCachedBufferSize=1024',
  '-Dlog4j2.disable.jmx=true',
  '--add-opens=java.base/java.nio=ALL-UNNAMED',
  '--add-opens=java.base/java.io=ALL-UNNAMED',
  '--add-opens=java.base/sun.nio.ch=ALL-UNNAMED',
  '--add-opens=java.base/java.lang=ALL-UNNAMED',
];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function newestMtime(p) {
  let st;
  try {
    st = fs.statSync(p);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const e of fs.readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, e)));
  return newest;
}

function isUpToDate() {
  let stamp;
  try {
    stamp = fs.statSync(STAMP).mtimeMs;
    fs.accessSync(CLASSPATH_FILE);
  } catch {
    return false;
  }
  const inputs = Math.max(newestMtime(path.join(SANDBOX_DIR, 'pom.xml')), newestMtime(path.join(SANDBOX_DIR, 'src')));
  return stamp > inputs;
}

function runMaven(log) {
  const mvn = process.env.MVN || 'mvn';
  const args = [
    '-q',
    '-B',
    '-Dstyle.color=never',
    '-f',
    path.join(SANDBOX_DIR, 'pom.xml'),
    'package',
    '-DskipTests',
    'dependency:build-classpath',
    `-Dmdep.outputFile=${CLASSPATH_FILE}`,
  ];
  log(`[sandbox] building: ${mvn} ${args.join(' ')}\n`);
  return new Promise((resolve, reject) => {
    // Maven's stdout goes to our stderr: stdout is reserved for the ready line in CLI mode.
    const child = spawn(mvn, args, { cwd: SANDBOX_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const collect = (d) => {
      // Maven 3.8 prints stray ANSI resets even with -B -q; drop them.
      const text = d.toString().replace(new RegExp(String.fromCharCode(27) + '\\[[0-9;]*m', 'g'), '');
      tail = (tail + text).slice(-8000);
      if (text.trim()) log(text);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`maven build failed (exit ${code}):\n${tail}`));
    });
  });
}

/**
 * Builds the launcher with Maven unless target/ is newer than pom.xml and src/.
 * Safe to call concurrently from several processes (a lock directory serialises builds).
 * Resolves to { classpath: string[], built: boolean }.
 */
export async function ensureBuilt({ force = false, log = (s) => process.stderr.write(s) } = {}) {
  let built = false;
  if (force || !isUpToDate()) {
    const deadline = Date.now() + 15 * 60_000;
    for (;;) {
      try {
        fs.mkdirSync(LOCK_DIR);
        break;
      } catch (e) {
        if (e.code !== 'EEXIST') throw e;
        // A stale lock (builder died) is broken after 15 minutes.
        try {
          if (Date.now() - fs.statSync(LOCK_DIR).mtimeMs > 15 * 60_000) fs.rmSync(LOCK_DIR, { recursive: true, force: true });
        } catch {}
        if (Date.now() > deadline) throw new Error(`timed out waiting for build lock ${LOCK_DIR}`);
        await sleep(500);
      }
    }
    try {
      if (force || !isUpToDate()) {
        await runMaven(log);
        fs.writeFileSync(STAMP, new Date().toISOString() + '\n');
        built = true;
      }
    } finally {
      fs.rmSync(LOCK_DIR, { recursive: true, force: true });
    }
  }
  const deps = fs.readFileSync(CLASSPATH_FILE, 'utf8').trim().split(path.delimiter).filter(Boolean);
  return { classpath: [path.join(TARGET, 'classes'), ...deps], built };
}

/**
 * Starts the sandbox. spec: { password?, dataDir?, settings?, instances: [{ name, boltPort?, httpPort?, readOnly?, settings? }] }
 * options: { timeoutMs = 180000, jvmArgs = DEFAULT_JVM_ARGS, verbose = env SANDBOX_VERBOSE, build = true }
 * Resolves to { instances, startMs, pid, command(obj), stop(graceMs), exited }.
 */
export async function startSandbox(spec, options = {}) {
  const {
    timeoutMs = 180_000,
    jvmArgs = DEFAULT_JVM_ARGS,
    verbose = !!process.env.SANDBOX_VERBOSE,
    build = true,
    signal, // optional AbortSignal: aborting before ready stops the launcher and rejects
    stderr: stderrSink = verbose ? (s) => process.stderr.write(s) : null,
  } = options;
  const fullSpec = { password: DEFAULT_PASSWORD, ...spec };
  const { classpath } = build
    ? await ensureBuilt({ log: stderrSink || (() => {}) })
    : { classpath: [path.join(TARGET, 'classes'), ...fs.readFileSync(CLASSPATH_FILE, 'utf8').trim().split(path.delimiter)] };

  const java = process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
  const args = [...jvmArgs, '-cp', classpath.join(path.delimiter), 'dev.edgegateway.sandbox.Launcher', JSON.stringify(fullSpec)];
  const spawnedAt = Date.now();
  // detached: own process group, so a terminal's Ctrl-C reaches only us and we stop it in order.
  // If this process dies, the launcher sees EOF on stdin and shuts down by itself.
  const child = spawn(java, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });

  let stderrTail = [];
  const errLines = readline.createInterface({ input: child.stderr });
  errLines.on('line', (line) => {
    stderrTail.push(line);
    if (stderrTail.length > 200) stderrTail = stderrTail.slice(-200);
    if (stderrSink) stderrSink(line + '\n');
  });
  const tail = () => stderrTail.slice(-60).join('\n');

  let exitInfo = null;
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exitInfo = { code, signal };
      resolve(exitInfo);
    });
  });

  const pending = []; // FIFO of { resolve, reject } for control commands
  let onReady;
  const readyPromise = new Promise((resolve, reject) => {
    onReady = { resolve, reject };
  });
  let ready = false;

  const outLines = readline.createInterface({ input: child.stdout });
  outLines.on('line', (line) => {
    let msg;
    try {
      msg = JSON.parse(line);
    } catch {
      stderrTail.push(`[stdout, not JSON] ${line}`);
      return;
    }
    if (!ready) {
      ready = true;
      if (msg.ready === true) onReady.resolve(msg);
      else onReady.reject(new Error(`sandbox failed to start: ${msg.error}\n--- stderr tail ---\n${tail()}`));
      return;
    }
    const p = pending.shift();
    if (p) p.resolve(msg);
  });

  child.on('error', (e) => onReady.reject(e));
  exited.then(({ code, signal }) => {
    if (!ready) onReady.reject(new Error(`sandbox exited before ready (code ${code}, signal ${signal})\n--- stderr tail ---\n${tail()}`));
    for (const p of pending.splice(0)) p.reject(new Error(`sandbox exited (code ${code}, signal ${signal})`));
  });
  child.stdin.on('error', () => {}); // EPIPE after exit is reported via `exited`

  const timer = setTimeout(() => {
    if (!ready) {
      ready = true;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
      onReady.reject(new Error(`sandbox not ready after ${timeoutMs} ms\n--- stderr tail ---\n${tail()}`));
    }
  }, timeoutMs);

  const onAbort = () => {
    if (ready) return;
    ready = true;
    // SIGTERM: the launcher finishes any instance start in progress, stops everything, exits 0.
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {}
    const t = setTimeout(() => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
    }, 60_000);
    exited.then(() => clearTimeout(t));
    onReady.reject(Object.assign(new Error('sandbox start aborted'), { name: 'AbortError' }));
  };
  if (signal) {
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  }

  let readyMsg;
  try {
    readyMsg = await readyPromise;
  } catch (e) {
    if (e.name === 'AbortError') await exited;
    throw e;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }

  function command(obj) {
    if (exitInfo) return Promise.reject(new Error('sandbox has exited'));
    return new Promise((resolve, reject) => {
      pending.push({ resolve, reject });
      child.stdin.write(JSON.stringify(obj) + '\n');
    });
  }

  let stopping = null;
  function stop(graceMs = 60_000) {
    if (!stopping) {
      stopping = (async () => {
        if (!exitInfo) child.stdin.end();
        const t = setTimeout(() => {
          try {
            process.kill(-child.pid, 'SIGKILL');
          } catch {}
        }, graceMs);
        const info = await exited;
        clearTimeout(t);
        return info;
      })();
    }
    return stopping;
  }

  return {
    instances: readyMsg.instances,
    startMs: readyMsg.startMs,
    wallMs: Date.now() - spawnedAt,
    dataDir: readyMsg.dataDir,
    ready: readyMsg,
    pid: child.pid,
    command,
    stop,
    exited,
    stderrTail: tail,
  };
}

// ------------------------------------------------------------------ CLI

function parseCli(argv) {
  let spec = null;
  let password = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--instances') {
      const names = (argv[++i] || '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      spec = { ...(spec || {}), instances: names.map((name) => ({ name })) };
    } else if (a === '--password') {
      password = argv[++i];
    } else if (a === '--spec') {
      spec = JSON.parse(fs.readFileSync(argv[++i], 'utf8'));
    } else if (a === '-h' || a === '--help') {
      process.stderr.write('usage: node infra/sandbox/run.mjs [spec.json | --instances a,b,c] [--password pw]\n');
      process.exit(0);
    } else if (a.trim().startsWith('{')) {
      spec = JSON.parse(a);
    } else {
      spec = JSON.parse(fs.readFileSync(a, 'utf8'));
    }
  }
  spec = spec || { instances: [{ name: 'local' }] };
  if (password) spec.password = password;
  return spec;
}

async function cli() {
  const spec = parseCli(process.argv.slice(2));
  let sb = null;
  let exiting = false;
  const abort = new AbortController();
  const shutdown = async (why) => {
    if (exiting) return;
    exiting = true;
    process.stderr.write(`[sandbox] ${why}: stopping\n`);
    if (!sb) {
      abort.abort(); // startSandbox rejects once the launcher has exited
      return;
    }
    const { code } = await sb.stop();
    process.exit(code ?? 1);
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGHUP', () => shutdown('SIGHUP'));

  try {
    sb = await startSandbox(spec, { verbose: true, signal: abort.signal });
  } catch (e) {
    if (e.name === 'AbortError') process.exit(0);
    process.stderr.write(String(e.message || e) + '\n');
    process.exit(1);
  }
  process.stdout.write(JSON.stringify(sb.ready) + '\n');

  // Control commands typed on stdin are forwarded; stdin EOF alone does not stop the sandbox
  // (so `node run.mjs ... &` keeps running), only a signal does.
  const rl = readline.createInterface({ input: process.stdin });
  rl.on('line', async (line) => {
    if (!line.trim()) return;
    let obj;
    try {
      obj = JSON.parse(line);
    } catch {
      process.stdout.write(JSON.stringify({ ok: false, error: 'invalid JSON' }) + '\n');
      return;
    }
    try {
      process.stdout.write(JSON.stringify(await sb.command(obj)) + '\n');
    } catch (e) {
      process.stdout.write(JSON.stringify({ ok: false, error: String(e.message || e) }) + '\n');
    }
  });
  sb.exited.then(({ code }) => {
    if (!exiting) {
      process.stderr.write(`[sandbox] launcher exited unexpectedly (code ${code})\n`);
      process.exit(code || 1);
    }
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  cli();
}
