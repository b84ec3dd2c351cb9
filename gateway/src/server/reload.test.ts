import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/index.ts';
import type { ReplicaPool } from '../pool/index.ts';
import type { ResolvedReplica } from '../supergraph/index.ts';
import { syncPools } from './reload.ts';

// syncPools is what a config reload runs: replicas whose labels changed are relabelled in place.
const pools = new Map<string, ReplicaPool>();
afterEach(async () => {
  await Promise.all([...pools.values()].map((p) => p.close()));
  pools.clear();
});

const A = 'http://127.0.0.1:9/a';
const B = 'http://127.0.0.1:9/b';
const quiet = loadConfig({ env: {}, base: { pool: { healthCheck: { intervalMs: 0 } } } }).pool;
const sync = (replicas: ResolvedReplica[]) => syncPools(pools, new Map([['products', replicas]]), quiet);

describe('syncPools', () => {
  it('creates pools with labels, then relabels, adds and removes replicas on a reload', () => {
    sync([{ url: A, labels: {} }]);
    const pool = pools.get('products')!;
    expect(pool.stats().map((r) => r.labels)).toEqual([{}]);
    sync([
      { url: A, labels: { track: 'canary' } },
      { url: B, labels: {} },
    ]);
    expect(pools.get('products')).toBe(pool);
    expect(pool.stats().map((r) => [r.url, r.labels])).toEqual([
      [A, { track: 'canary' }],
      [B, {}],
    ]);
    sync([{ url: B, labels: { track: 'stable' } }]);
    expect(pool.replicas).toEqual([B]);
    expect(pool.labelsOf(B)).toEqual({ track: 'stable' });
  });
});
