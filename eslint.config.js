// Lint: typescript-eslint, plus the architecture rule of DESIGN §2: `node:*` imports and
// `process` stay in src/adapters/node/ (the core speaks web standards only).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [
  'assert', 'buffer', 'child_process', 'cluster', 'crypto', 'dgram', 'dns', 'events', 'fs', 'fs/promises', 'http', 'http2', 'https',
  'module', 'net', 'os', 'path', 'perf_hooks', 'process', 'readline', 'stream', 'timers', 'tls', 'url', 'util', 'v8', 'vm', 'worker_threads', 'zlib',
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'infra/sandbox/target/**', '.wrangler/**', 'dist/**', '**/*.d.mts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        console: 'readonly', fetch: 'readonly', Request: 'readonly', Response: 'readonly', Headers: 'readonly', URL: 'readonly',
        AbortSignal: 'readonly', AbortController: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', crypto: 'readonly',
        setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', btoa: 'readonly', atob: 'readonly',
        Intl: 'readonly', structuredClone: 'readonly', queueMicrotask: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/adapters/node/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [{ group: ['node:*'], message: 'node:* modules belong in src/adapters/node/ only (DESIGN §2).' }],
          paths: nodeBuiltins.map((name) => ({ name, message: 'Node built-ins belong in src/adapters/node/ only (DESIGN §2).' })),
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'process belongs in src/adapters/node/ only (DESIGN §2).' },
        { name: 'Buffer', message: 'Buffer belongs in src/adapters/node/ only; use Uint8Array (DESIGN §2).' },
        { name: '__dirname', message: 'Node-only.' },
        { name: 'require', message: 'ESM only.' },
      ],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/adapters/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*'], message: 'node:* modules belong in src/adapters/node/ only (DESIGN §2).' },
            { group: ['**/adapters/**'], message: 'Nothing imports adapters (DESIGN §2).' },
          ],
          paths: nodeBuiltins.map((name) => ({ name, message: 'Node built-ins belong in src/adapters/node/ only (DESIGN §2).' })),
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts', 'scripts/**/*.mjs', 'src/adapters/node/**/*.ts', 'infra/**/*.mjs', '*.config.*'],
    languageOptions: { globals: { process: 'readonly', Buffer: 'readonly', __dirname: 'readonly' } },
  },
);
