import { afterAll, describe, expect, it } from 'vitest';
import { createRedisDocumentStore, PERSISTED_STORE_UNAVAILABLE } from './redis-store.ts';

const url = process.env.REDIS_URL;

describe('createRedisDocumentStore', () => {
  const dead = createRedisDocumentStore({ url: 'redis://127.0.0.1:9', timeoutMs: 50 });
  afterAll(() => dead.close());

  it('fails fast with a stable code when Redis is unreachable', async () => {
    const t0 = performance.now();
    await expect(dead.get('x')).rejects.toMatchObject({ code: PERSISTED_STORE_UNAVAILABLE });
    await expect(dead.set('x', '{ a }')).rejects.toMatchObject({ code: PERSISTED_STORE_UNAVAILABLE });
    expect(performance.now() - t0).toBeLessThan(500);
  });

  it.skipIf(!url)('stores, reads, expires and deletes texts in Redis', async () => {
    const prefix = `tollgate:test:pq:${process.pid}:${Date.now()}:`;
    const store = createRedisDocumentStore({ url: url!, keyPrefix: prefix, timeoutMs: 500 });
    try {
      await store.set('k', '{ a }', { ttl: 60 });
      expect(await store.get('k')).toBe('{ a }');
      await store.set('short', '{ b }', { ttl: 1 });
      expect(await store.get('short')).toBe('{ b }');
      await new Promise((r) => setTimeout(r, 1_100));
      expect(await store.get('short')).toBeUndefined();
      expect(await store.delete('k')).toBe(true);
      expect(await store.get('k')).toBeUndefined();
    } finally {
      await store.close();
    }
  });
});
