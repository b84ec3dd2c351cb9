import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore } from './redis-store.ts';
import { CacheStoreError } from './store.ts';
import { describeStoreContract } from './store-contract.ts';

const url = process.env.REDIS_URL;

// Generous: the contract is about semantics, and the first call waits for the connection.
describeStoreContract(
  'redis store',
  () => createRedisStore({ url: url ?? '', timeoutMs: 2000, connectTimeoutMs: 1000 }),
  {
    skip: !url,
  },
);

describe.skipIf(!url)('redis store: expiry', () => {
  const prefix = `tollgate-test-${randomBytes(6).toString('hex')}:`;
  const store = createRedisStore({ url: url ?? '', timeoutMs: 2000, connectTimeoutMs: 1000 });
  const admin = new Redis(url ?? '', { lazyConnect: true });

  afterAll(async () => {
    await store.clear(prefix);
    await store.close();
    admin.disconnect();
  });

  it('sets the TTL of fills and tombstones in seconds', async () => {
    await store.fill([
      { key: `${prefix}v`, value: 'v', expected: null, ttlSec: 60 },
      { key: `${prefix}t`, value: 'v', expected: null, ttlSec: 60 },
    ]);
    await store.tombstone([`${prefix}t`], 't-1', 5);
    await store.fill([{ key: `${prefix}t`, value: 'fresh', expected: 't-1', ttlSec: 30 }]);
    const [v, t] = await Promise.all([admin.ttl(`${prefix}v`), admin.ttl(`${prefix}t`)]);
    expect(v).toBeGreaterThan(55);
    expect(v).toBeLessThanOrEqual(60);
    expect(t).toBeGreaterThan(25);
    expect(t).toBeLessThanOrEqual(30);
  });
});

// No shared Redis needed: these bring their own broken one.
describe('redis store: a Redis that is away or hung fails each call within its timeout', () => {
  let blackHole: Server;
  let blackHolePort: number;
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    // Accepts connections and never answers, as a hung Redis or a half-open network path does.
    blackHole = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
    blackHolePort = (blackHole.address() as { port: number }).port;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => blackHole.close(resolve));
  });

  const timed = async (call: () => Promise<unknown>) => {
    const started = performance.now();
    const error = await call().then(
      () => undefined,
      (err: unknown) => err,
    );
    return { error, ms: performance.now() - started };
  };

  it.each([
    ['get', (s: ReturnType<typeof createRedisStore>) => s.get(['k'])],
    [
      'fill',
      (s: ReturnType<typeof createRedisStore>) =>
        s.fill([{ key: 'k', value: 'v', expected: null, ttlSec: 1 }]),
    ],
    ['tombstone', (s: ReturnType<typeof createRedisStore>) => s.tombstone(['k'], 't', 1)],
  ])('hung server: %s rejects with CACHE_TIMEOUT after about timeoutMs', async (_, call) => {
    const store = createRedisStore({
      url: `redis://127.0.0.1:${blackHolePort}`,
      timeoutMs: 50,
      connectTimeoutMs: 1000,
    });
    try {
      const { error, ms } = await timed(() => call(store));
      expect(error).toBeInstanceOf(CacheStoreError);
      expect((error as CacheStoreError).code).toBe('CACHE_TIMEOUT');
      expect(ms).toBeGreaterThanOrEqual(45);
      expect(ms).toBeLessThan(500);
    } finally {
      await store.close();
    }
  });

  it('nothing listening: calls fail fast with CACHE_UNAVAILABLE once the first connect has failed', async () => {
    // A port that was free a moment ago: connection refused.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise((resolve) => probe.close(resolve));

    const store = createRedisStore({
      url: `redis://127.0.0.1:${port}`,
      timeoutMs: 50,
      connectTimeoutMs: 1000,
    });
    try {
      const first = await timed(() => store.get(['k']));
      expect(first.error).toBeInstanceOf(CacheStoreError);
      const later = await timed(() => store.get(['k']));
      expect((later.error as CacheStoreError).code).toBe('CACHE_UNAVAILABLE');
      expect(later.ms).toBeLessThan(45);
    } finally {
      await store.close();
    }
  });

  it('a closed store refuses calls', async () => {
    const store = createRedisStore({
      url: `redis://127.0.0.1:${blackHolePort}`,
      timeoutMs: 50,
      connectTimeoutMs: 1000,
    });
    await store.close();
    await expect(store.get(['k'])).rejects.toMatchObject({ code: 'CACHE_UNAVAILABLE' });
  });
});
