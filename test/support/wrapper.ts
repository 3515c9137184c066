/**
 * Neo4j's own Query API client (@neo4j-labs/experimental-query-api-wrapper) ships ESM files under
 * a CommonJS package.json, so it is bundled once with esbuild before use.
 */
import { build } from 'esbuild';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';

export const WRAPPER_BUNDLE = path.resolve('node_modules/.cache/n4gw/query-api-wrapper-v2.mjs');

export async function bundleWrapper(): Promise<string> {
  if (existsSync(WRAPPER_BUNDLE)) return WRAPPER_BUNDLE;
  mkdirSync(path.dirname(WRAPPER_BUNDLE), { recursive: true });
  await build({
    entryPoints: [path.resolve('node_modules/@neo4j-labs/experimental-query-api-wrapper/lib/index.js')],
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outfile: WRAPPER_BUNDLE,
    // the bundle requires Node built-ins; give the ESM output a require()
    banner: { js: "import { createRequire as __n4gwCreateRequire } from 'node:module'; const require = __n4gwCreateRequire(import.meta.url);" },
    logLevel: 'silent',
  });
  return WRAPPER_BUNDLE;
}
