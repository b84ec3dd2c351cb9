import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

// Node resolves `graphql` to its CommonJS build (the package has no `exports`), and so do Apollo's
// packages that vitest leaves to Node; vite would pick the ESM build (`module`) for our own files.
// Two graphql instances break `instanceof` checks (GraphQLError, schema types), so pin ours to Node's.
const graphql = createRequire(import.meta.url).resolve('graphql');
// Our packages export `source` (the TypeScript) beside `default` (the compiled dist/): tests run the
// sources, so they never depend on a build being current.
const resolve = {
  alias: [{ find: /^graphql$/, replacement: graphql }],
  conditions: ['source', 'node', 'development|production'],
};
// Without vite's `module` condition: Node, not vite, loads the dependencies (some `module` builds are not
// valid Node ESM, and vitest leaves dependencies to Node).
const ssr = { resolve: { conditions: ['source', 'node', 'development|production'] } };

// Test tiers are chosen by file suffix (docs/design.md#layout): unit and plugin tests sit beside the code,
// integration tests in <package>/test/*.int.test.ts, whole-stack tests in test/e2e/*.e2e.ts, faults
// staged against the whole stack in test/chaos/*.chaos.ts, several gateways behind a balancer in
// test/cluster/*.cluster.ts.
export default defineConfig({
  test: {
    globalSetup: ['test/fixtures/build.global-setup.ts'],
    projects: [
      {
        resolve,
        ssr,
        test: {
          name: 'unit',
          include: [
            'gateway/src/**/*.test.ts',
            'services/*/src/**/*.test.ts',
            'scripts/**/*.test.ts',
            'test/load/**/*.test.ts',
          ],
        },
      },
      {
        resolve,
        ssr,
        test: {
          name: 'integration',
          include: ['gateway/test/**/*.int.test.ts', 'services/*/test/**/*.int.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        resolve,
        ssr,
        test: {
          // Our own federation corpus (test/federation/README.md): subgraphs in process, both planners.
          name: 'federation',
          include: ['test/federation/**/*.fed.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        resolve,
        ssr,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.e2e.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        resolve,
        ssr,
        test: {
          // Faults staged against the whole stack on a private PostgreSQL and Redis (test/chaos/lib).
          name: 'chaos',
          include: ['test/chaos/**/*.chaos.ts'],
          testTimeout: 180_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
      {
        resolve,
        ssr,
        test: {
          // Several gateways as one (test/cluster/lib): network namespaces, HAProxy, one Redis; needs root.
          name: 'cluster',
          include: ['test/cluster/**/*.cluster.ts'],
          testTimeout: 120_000,
          hookTimeout: 240_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
