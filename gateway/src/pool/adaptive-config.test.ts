import { describe, expect, it } from 'vitest';
import { configFiles, issuesOf } from '../../test/fixtures/config-files.ts';
import { loadConfig } from '../config/index.ts';
import { resolvePoolOptions } from './options.ts';

const { dir, file } = configFiles('tollgate-adaptive-');

describe('pool.attemptTimeout and pool.hedging config', () => {
  it('defaults: adaptive attempt timeout on, hedging off', () => {
    const o = resolvePoolOptions('inventory', loadConfig({ cwd: dir, env: {} }).pool);
    expect(o.attemptTimeout).toEqual({
      enabled: true,
      percentile: 99,
      factor: 3,
      minMs: 250,
      maxMs: 10_000,
    });
    expect(o.hedging).toEqual({
      enabled: false,
      delayPercentile: 95,
      minDelayMs: 10,
      maxExtraPercent: 10,
      windowMs: 10_000,
    });
  });

  it('a subgraph override applies key by key over the pool-wide values', () => {
    const path = file(
      'adaptive.yaml',
      [
        'pool:',
        '  hedging: { enabled: true, maxExtraPercent: 5 }',
        '  attemptTimeout: { enabled: true, minMs: 400 }',
        '  overrides:',
        '    inventory: { hedging: { delayPercentile: 90 }, attemptTimeout: { enabled: false } }',
      ].join('\n'),
    );
    const pool = loadConfig({ flags: { configFile: path }, cwd: dir, env: {} }).pool;
    const inventory = resolvePoolOptions('Inventory', pool);
    expect(inventory.hedging).toMatchObject({ enabled: true, maxExtraPercent: 5, delayPercentile: 90 });
    expect(inventory.attemptTimeout).toMatchObject({ enabled: false, minMs: 400 });
    const reviews = resolvePoolOptions('reviews', pool);
    expect(reviews.hedging).toMatchObject({ enabled: true, delayPercentile: 95 });
    expect(reviews.attemptTimeout).toMatchObject({ enabled: true, minMs: 400 });
  });

  it('names the key of a bad value', () => {
    const path = file(
      'bad.yaml',
      [
        'pool:',
        '  hedging: { maxExtraPercent: 150, delayPercentile: 0 }',
        '  attemptTimeout: { factor: -1, minMs: soon }',
        '  overrides: { inventory: { hedging: { windowMs: 0 } } }',
      ].join('\n'),
    );
    const issues = issuesOf(() => loadConfig({ flags: { configFile: path }, cwd: dir, env: {} })).join('\n');
    for (const key of [
      'pool.hedging.maxExtraPercent',
      'pool.hedging.delayPercentile',
      'pool.attemptTimeout.factor',
      'pool.attemptTimeout.minMs',
      'pool.overrides.inventory.hedging.windowMs',
    ])
      expect(issues).toContain(key);
  });
});
