// Lint: typescript-eslint, plus the architecture rule of DESIGN §2: `node:*` imports and
// `process` stay in src/adapters/node/ (the core speaks web standards only).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [
  'assert',
  'buffer',
  'child_process',
  'cluster',
  'crypto',
  'dgram',
  'dns',
  'events',
  'fs',
  'fs/promises',
  'http',
  'http2',
  'https',
  'module',
  'net',
  'os',
  'path',
  'perf_hooks',
  'process',
  'readline',
  'stream',
  'timers',
  'tls',
  'url',
  'util',
  'v8',
  'vm',
  'worker_threads',
  'zlib',
];

/**
 * The layers of src/, lowest first: a folder may import from the folders before it, never from
 * those after it (docs/ARCHITECTURE.md). Each layer is one folder.
 */
export const LAYERS = [
  'errors',
  'config',
  'telemetry',
  'values',
  'cypher',
  'topology',
  'cache',
  'limits',
  'transport',
  'routing',
  'policy',
  'federation',
  'graphql',
  'http',
  'adapters',
];

function layerRules() {
  const nodeOnly = (message, allowed = []) => ({
    patterns: [{ group: ['node:*', ...allowed.map((m) => `!${m}`)], message }],
    paths: nodeBuiltins.map((name) => ({ name, message })),
  });
  return LAYERS.map((layer, i) => {
    const above = LAYERS.slice(i + 1);
    const builtins = nodeOnly('Node built-ins belong in src/adapters/node/ only (docs/ARCHITECTURE.md).');
    const patterns =
      layer === 'adapters'
        ? []
        : [
            {
              regex: `(^|/)(${above.join('|')})/`,
              message: `src/${layer}/ sits below ${above.join(', ')}: it may not import from them (docs/ARCHITECTURE.md).`,
            },
          ];
    return {
      files: [`src/${layer}/**/*.ts`],
      ignores: layer === 'adapters' ? ['src/adapters/node/**'] : [],
      rules: { 'no-restricted-imports': ['error', { patterns: [...builtins.patterns, ...patterns], paths: builtins.paths }] },
    };
  });
}

export default tseslint.config(
  { ignores: ['node_modules/**', 'infra/sandbox/target/**', '**/.wrangler/**', 'dist/**', '**/*.d.mts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        console: 'readonly',
        fetch: 'readonly',
        Request: 'readonly',
        Response: 'readonly',
        Headers: 'readonly',
        URL: 'readonly',
        AbortSignal: 'readonly',
        AbortController: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        crypto: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        btoa: 'readonly',
        atob: 'readonly',
        Intl: 'readonly',
        structuredClone: 'readonly',
        queueMicrotask: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
  // Node built-ins only in src/adapters/node/; the layers import downwards only (docs/ARCHITECTURE.md)
  ...layerRules(),
  {
    files: ['src/**/*.ts'],
    ignores: ['src/adapters/node/**'],
    rules: {
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'process belongs in src/adapters/node/ only (docs/ARCHITECTURE.md).' },
        { name: 'Buffer', message: 'Buffer belongs in src/adapters/node/ only; use Uint8Array (docs/ARCHITECTURE.md).' },
        { name: '__dirname', message: 'Node-only.' },
        { name: 'require', message: 'ESM only.' },
      ],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts', 'scripts/**/*.mjs', 'src/adapters/node/**/*.ts', 'infra/**/*.mjs', '*.config.*'],
    languageOptions: { globals: { process: 'readonly', Buffer: 'readonly', __dirname: 'readonly' } },
  },
);
