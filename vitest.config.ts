import { defineConfig } from 'vitest/config';

// Test tiers are chosen by file suffix (STYLE.md): unit and plugin tests sit beside the code,
// integration tests in <package>/test/*.int.test.ts, whole-stack tests in test/e2e/*.e2e.ts.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['gateway/src/**/*.test.ts', 'services/*/src/**/*.test.ts', 'scripts/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['gateway/test/**/*.int.test.ts', 'services/*/test/**/*.int.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.e2e.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
