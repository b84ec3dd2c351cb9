import { describe, expect, it } from 'vitest';
import { cacheOptionsFromEnv, pubsubOptionsFromEnv } from './run-subgraph.ts';

describe('cacheOptionsFromEnv', () => {
  it.each([
    // Without Redis, a process cannot know it is the only replica: no shared cache unless asked.
    ['nothing set', {}, undefined],
    ['REDIS_URL', { REDIS_URL: 'redis://r:6379' }, { redisUrl: 'redis://r:6379', keyPrefix: 'tollgate' }],
    [
      'rediss:// and a prefix',
      { REDIS_URL: 'rediss://r', SUBGRAPH_CACHE_PREFIX: 'staging' },
      { redisUrl: 'rediss://r', keyPrefix: 'staging' },
    ],
    ['memory', { SUBGRAPH_CACHE: 'memory' }, { keyPrefix: 'tollgate' }],
    [
      'memory wins over REDIS_URL',
      { SUBGRAPH_CACHE: 'memory', REDIS_URL: 'redis://r' },
      { keyPrefix: 'tollgate' },
    ],
    ['off wins over REDIS_URL', { SUBGRAPH_CACHE: 'off', REDIS_URL: 'redis://r' }, undefined],
    ['blank values', { SUBGRAPH_CACHE: ' ', REDIS_URL: '' }, undefined],
  ])('%s', (_, env, expected) => {
    expect(cacheOptionsFromEnv(env)).toEqual(expected);
  });

  it.each([
    ['an unknown mode', { SUBGRAPH_CACHE: 'disk' }, /SUBGRAPH_CACHE: expected redis, memory or off/],
    ['redis without REDIS_URL', { SUBGRAPH_CACHE: 'redis' }, /needs REDIS_URL/],
    ['a REDIS_URL that is not redis://', { REDIS_URL: 'http://r:6379' }, /REDIS_URL: expected redis:\/\//],
  ])('rejects %s', (_, env, message) => {
    expect(() => cacheOptionsFromEnv(env)).toThrow(message);
  });
});

describe('pubsubOptionsFromEnv', () => {
  const db = 'postgres://db/x';
  it.each([
    ['nothing but the database', {}, { databaseUrl: db, postgresMode: 'auto' }],
    ['REDIS_URL', { REDIS_URL: 'redis://r' }, { redisUrl: 'redis://r', keyPrefix: 'tollgate' }],
    [
      'REDIS_URL and a prefix',
      { REDIS_URL: 'redis://r', SUBGRAPH_CACHE_PREFIX: 'e2e' },
      { redisUrl: 'redis://r', keyPrefix: 'e2e' },
    ],
    ['a blank REDIS_URL', { REDIS_URL: ' ' }, { databaseUrl: db, postgresMode: 'auto' }],
  ])('%s', (_, env, expected) => {
    expect(pubsubOptionsFromEnv(env, db)).toEqual(expected);
  });
});
