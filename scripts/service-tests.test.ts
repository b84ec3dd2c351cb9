import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const script = join(dirname(fileURLToPath(import.meta.url)), 'service-tests.mjs');
const listed = execFileSync(process.execPath, [script], { encoding: 'utf8' }).trim().split('\n');

// CI's second run (real PostgreSQL and Redis) takes only these files: one left out would lose its
// real-server coverage without a word, one put in costs minutes for nothing.
describe('the tests CI runs again on the real servers', () => {
  it.each([
    ['a Redis store test that skips without REDIS_URL', 'gateway/src/ratelimit/redis-store.test.ts'],
    [
      'a subgraph test on createTestDatabase (through @tollgate/kit/testing)',
      'services/reviews/test/reviews.int.test.ts',
    ],
    ['the chaos suite, through its own helpers', 'test/chaos/stack.chaos.ts'],
    // its one budget across three gateways is shared only through Redis (REDIS_URL, or a private one)
    ['the cluster scenarios, through their own helpers', 'test/cluster/gateways.cluster.ts'],
    ['a whole-stack test', 'test/e2e/stack.e2e.ts'],
  ])('include %s', (_, file) => {
    expect(listed).toContain(file);
  });

  it.each([
    ['a pure core', 'gateway/src/pool/strategies/strategies.test.ts'],
    ['a gateway test on in-process fixtures', 'gateway/test/pool.int.test.ts'],
    ['npm start, which always runs on embedded defaults', 'test/e2e/npm-start.e2e.ts'],
  ])('leave out %s', (_, file) => {
    expect(listed).not.toContain(file);
  });
});
