import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

// graphql ships an ESM and a CommonJS build; vite would give our sources the ESM one while
// graphql-yoga (loaded by Node) gets the CommonJS one: one schema, two realms. Use Node's choice.
const graphqlEntry = createRequire(import.meta.url).resolve('graphql');

export default defineConfig({
  resolve: { alias: [{ find: /^graphql$/, replacement: graphqlEntry }] },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 240_000,
          // one sandbox JVM serves every file; files run one after another on 2 cores
          fileParallelism: false,
        },
      },
    ],
  },
});
