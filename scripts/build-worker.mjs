// Run by wrangler before it bundles the Worker ([build] in wrangler.toml). Neo4j's Cypher grammar
// package re-exports a 4 MiB semantic analyser and 2 MiB of its own test data that the gateway
// never calls (it uses the parser only). This pre-bundles the package with both replaced by stubs
// into dist/vendor/cypher-parser.mjs, which wrangler.toml aliases in place of the package: the
// Worker stays well inside its size budget.
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
  stdin: { contents: "export * from '@neo4j-cypher/language-support';", resolveDir: process.cwd(), loader: 'js' },
  outfile: 'dist/vendor/cypher-parser.mjs',
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  conditions: ['workerd', 'worker', 'browser', 'import'],
  mainFields: ['browser', 'module', 'main'],
  plugins: [stubs],
  logLevel: 'warning',
});
