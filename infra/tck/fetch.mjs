#!/usr/bin/env node
// The openCypher TCK (Technology Compatibility Kit) for the federation judge
// (test/integration/tck.test.ts): fetches org.opencypher:tck from Maven Central once, checks
// it against a pinned SHA-256, and extracts its .feature files and named graphs into
// infra/tck/target/ (git-ignored). Once cached it never touches the network.
// It only reads and writes under infra/tck/target/ (and Maven's own cache, through mvn).
//
// Library:  import { ensureTck } from './infra/tck/fetch.mjs';
//           const { featuresDir, graphsDir } = await ensureTck();
// CLI:      node infra/tck/fetch.mjs        (prints the directory holding features/ and graphs/)
//
// Sources, in order: infra/tck/target/<jar> (cached), ~/.m2 (if Maven already has it), HTTPS
// from Maven Central (TCK_MAVEN_REPO overrides the base URL), then `mvn dependency:copy`
// (for machines that reach Maven Central only through Maven's configured proxy/mirror).
// Plain Node ESM, no dependencies; needs `jar` (JDK) or `unzip` to extract.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const TCK_GROUP = 'org.opencypher';
export const TCK_ARTIFACT = 'tck';
export const TCK_VERSION = '1.0.0-M23';
/** SHA-256 of tck-1.0.0-M23.jar (its SHA-1, 202d06223fd4adb3f59f27537032d7552acef60e, is Maven Central's) */
export const TCK_SHA256 = '7edc3f7b1fb612feac47285157d67345a2dfaa2791ad83b6ba1699c7f4635a21';

export const TCK_DIR = path.dirname(fileURLToPath(import.meta.url));
const TARGET = path.join(TCK_DIR, 'target');
const JAR_NAME = `${TCK_ARTIFACT}-${TCK_VERSION}.jar`;
const JAR = path.join(TARGET, JAR_NAME);
const EXTRACTED = path.join(TARGET, `${TCK_ARTIFACT}-${TCK_VERSION}`);
const STAMP = path.join(EXTRACTED, '.extracted');
const LOCK_DIR = path.join(TARGET, '.fetch-lock');
const DEFAULT_REPO = 'https://repo1.maven.org/maven2';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sha256 = (file) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const jarUrlPath = `${TCK_GROUP.replace(/\./g, '/')}/${TCK_ARTIFACT}/${TCK_VERSION}/${JAR_NAME}`;

function run(cmd, args, cwd) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out = (out + d.toString()).slice(-4000)));
    child.stderr.on('data', (d) => (out = (out + d.toString()).slice(-4000)));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}:\n${out}`))));
  });
}

/** Moves a downloaded jar into place if its checksum is the pinned one; deletes it otherwise. */
function acceptJar(candidate, source, log) {
  const actual = sha256(candidate);
  if (actual !== TCK_SHA256) {
    if (candidate !== JAR) fs.rmSync(candidate, { force: true });
    throw new Error(`TCK jar from ${source} has SHA-256 ${actual}, expected ${TCK_SHA256}`);
  }
  if (candidate !== JAR) fs.copyFileSync(candidate, JAR);
  log(`[tck] ${JAR_NAME} from ${source} (SHA-256 verified)\n`);
}

async function download(log) {
  const m2 = path.join(os.homedir(), '.m2', 'repository', jarUrlPath);
  if (fs.existsSync(m2)) {
    try {
      return acceptJar(m2, m2, log);
    } catch (e) {
      log(`[tck] ${e.message}; fetching instead\n`);
    }
  }
  const errors = [];
  const url = `${(process.env.TCK_MAVEN_REPO || DEFAULT_REPO).replace(/\/$/, '')}/${jarUrlPath}`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(120_000) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const tmp = `${JAR}.${process.pid}.part`;
    fs.writeFileSync(tmp, Buffer.from(await res.arrayBuffer()));
    try {
      return acceptJar(tmp, url, log);
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  } catch (e) {
    errors.push(`${url}: ${e.message}`);
  }
  try {
    const dir = fs.mkdtempSync(path.join(TARGET, 'mvn-'));
    try {
      await run(
        process.env.MVN || 'mvn',
        ['-q', '-B', 'dependency:copy', `-Dartifact=${TCK_GROUP}:${TCK_ARTIFACT}:${TCK_VERSION}`, `-DoutputDirectory=${dir}`],
        TARGET,
      );
      return acceptJar(path.join(dir, JAR_NAME), 'mvn dependency:copy', log);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  } catch (e) {
    errors.push(`mvn: ${e.message}`);
  }
  throw new Error(`could not fetch the openCypher TCK ${TCK_VERSION}:\n${errors.join('\n')}`);
}

async function extract(log) {
  const tmp = `${EXTRACTED}.${process.pid}.tmp`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  try {
    await run('jar', ['xf', JAR], tmp);
  } catch (e) {
    log(`[tck] jar xf failed (${e.message.split('\n')[0]}); trying unzip\n`);
    await run('unzip', ['-q', '-o', JAR], tmp);
  }
  const count = countFeatures(path.join(tmp, 'features'));
  if (count === 0) throw new Error(`no .feature files in ${JAR}`);
  fs.writeFileSync(path.join(tmp, '.extracted'), `${TCK_VERSION} ${TCK_SHA256} ${count} features\n`);
  fs.rmSync(EXTRACTED, { recursive: true, force: true });
  fs.renameSync(tmp, EXTRACTED);
  log(`[tck] extracted ${count} feature files into ${EXTRACTED}\n`);
}

function countFeatures(dir) {
  if (!fs.existsSync(dir)) return 0;
  return fs.readdirSync(dir, { recursive: true }).filter((f) => String(f).endsWith('.feature')).length;
}

const layout = () => ({ dir: EXTRACTED, featuresDir: path.join(EXTRACTED, 'features'), graphsDir: path.join(EXTRACTED, 'graphs'), version: TCK_VERSION });

/**
 * Makes sure the TCK is downloaded, verified and extracted; safe to call concurrently from
 * several processes (a lock directory serialises the work). Offline once cached.
 * Resolves to { dir, featuresDir, graphsDir, version }.
 */
export async function ensureTck({ log = (s) => process.stderr.write(s) } = {}) {
  if (fs.existsSync(STAMP)) return layout();
  fs.mkdirSync(TARGET, { recursive: true });
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      fs.mkdirSync(LOCK_DIR);
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      try {
        if (Date.now() - fs.statSync(LOCK_DIR).mtimeMs > 10 * 60_000) fs.rmSync(LOCK_DIR, { recursive: true, force: true });
      } catch {}
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${LOCK_DIR}`);
      await sleep(200);
    }
  }
  try {
    if (!fs.existsSync(STAMP)) {
      let cached = false;
      if (fs.existsSync(JAR)) {
        try {
          acceptJar(JAR, 'cache', log);
          cached = true;
        } catch (e) {
          log(`[tck] ${e.message}; fetching again\n`);
          fs.rmSync(JAR, { force: true });
        }
      }
      if (!cached) await download(log);
      await extract(log);
    }
  } finally {
    fs.rmSync(LOCK_DIR, { recursive: true, force: true });
  }
  return layout();
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  ensureTck().then(
    (t) => process.stdout.write(`${t.dir}\n`),
    (e) => {
      process.stderr.write(`${e.stack || e}\n`);
      process.exit(1);
    },
  );
}
