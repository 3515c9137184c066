// Builds the Worker entry (src/adapters/worker) to dist/worker/index.js; wrangler runs this first
// ([build] in wrangler.toml) and bundles the result. Neo4j's Cypher grammar package re-exports a
// 4 MiB semantic analyser and 2 MiB of its own test data that the gateway never calls (it uses the
// parser only): both are replaced by stubs here, which keeps the Worker inside its size budget.
import { build } from 'esbuild';

const stubs = {
  name: 'cypher-parser-only',
  setup(b) {
    b.onLoad({ filter: /language-support\/.*syntaxValidation\/semanticAnalysis\.js$/ }, () => ({
      contents: "export const analyzeQuery = () => { throw new Error('semantic analysis is not part of the gateway build'); }; export const updateSignatureResolver = () => {};",
      loader: 'js',
    }));
    b.onLoad({ filter: /language-support\/.*tests\/testData\.js$/ }, () => ({ contents: 'export const testData = {};', loader: 'js' }));
  },
};

await build({
  entryPoints: ['src/adapters/worker/index.ts'],
  outfile: 'dist/worker/index.js',
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  conditions: ['workerd', 'worker', 'browser'],
  mainFields: ['browser', 'module', 'main'],
  external: ['node:*', 'cloudflare:*'],
  plugins: [stubs],
  logLevel: 'warning',
});
