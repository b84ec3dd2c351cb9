import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import type { BucketState, RatePolicy } from './bucket.ts';
import { refund as pureRefund, take as pureTake } from './bucket.ts';
import { createRedisStore } from './redis-store.ts';
import type { RateLimitStore } from './store.ts';
import { describeStoreBehaviour } from './store-behaviour.ts';

// Only these tests need the shared Redis; resilience tests (resilient-store.test.ts) bring their own.
const url = process.env.REDIS_URL;
const keyPrefix = `tollgate:rl:test:${randomUUID()}:`;
// Generous: these tests are about decisions, not latency, and the first call waits for the connection.
const timeoutMs = 2000;

describeStoreBehaviour(
  'redis store',
  (options) => createRedisStore({ url: url ?? '', keyPrefix, timeoutMs, ...options }),
  {
    skip: !url,
    source: 'redis',
  },
);

describe.skipIf(!url)('redis store: shared budgets', () => {
  const open: RateLimitStore[] = [];
  const make = (now?: () => number) => {
    const store = createRedisStore({ url: url ?? '', keyPrefix, timeoutMs, ...(now ? { now } : {}) });
    open.push(store);
    return store;
  };
  const admin = url ? new Redis(url, { lazyConnect: true }) : undefined;

  afterEach(async () => {
    vi.restoreAllMocks();
    await Promise.all(open.splice(0).map((store) => store.close()));
  });

  afterAll(async () => {
    if (!admin) return;
    // SCAN, not KEYS: the Redis may be shared with other suites.
    let cursor = '0';
    do {
      const [next, keys] = await admin.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await admin.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    admin.disconnect();
  });

  it('two instances (two connections) sharing one budget enforce it together', async () => {
    const [a, b] = [make(), make()];
    const policy: RatePolicy = { capacity: 50, restoreRate: 0.1 };
    const key = `shared-${randomUUID()}`;
    const decisions = await Promise.all(
      Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? a : b).take(key, 1, policy)),
    );
    expect(decisions.filter((d) => d.allowed)).toHaveLength(50);
    expect((await a.take(key, 1, policy)).allowed).toBe(false);
    await b.refund(key, 10, policy);
    expect((await a.take(key, 10, policy)).allowed).toBe(true);
  });

  it('T-R2: skewed client clocks on two instances do not change the decisions', async () => {
    const [a, b] = [make(), make()];
    const policy: RatePolicy = { capacity: 200, restoreRate: 10 }; // T-R1 scaled: 100 ms per point
    const key = `skew-${randomUUID()}`;
    const realNow = Date.now.bind(Date);
    // Instance a runs an hour fast and b an hour slow; only Redis TIME may matter.
    const skewed = (skewMs: number, store: RateLimitStore) => ({
      take: (cost: number) => {
        const spy = vi.spyOn(Date, 'now').mockImplementation(() => realNow() + skewMs);
        return store.take(key, cost, policy).finally(() => spy.mockRestore());
      },
    });
    const [fast, slow] = [skewed(3_600_000, a), skewed(-3_600_000, b)];
    expect(await fast.take(200)).toMatchObject({ allowed: true, remaining: 0 });
    const denied = await slow.take(1);
    expect(denied).toMatchObject({ allowed: false, remaining: 0 });
    expect(denied.retryAfterMs).toBeGreaterThan(0);
    expect(denied.retryAfterMs).toBeLessThanOrEqual(100);
    expect((await fast.take(1)).allowed).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 510));
    expect((await slow.take(5)).allowed).toBe(true);
    expect((await fast.take(1)).allowed).toBe(false);
  });

  it('the Lua scripts and the pure functions agree, step by step', async () => {
    // A real epoch in ms: the precision pitfall only shows at this size. Keys still expire on Redis's own
    // clock (PX), so every bucket here takes seconds of real time to refill.
    let now = 1_700_000_000_000;
    const store = make(() => now);
    const cases: { policy: RatePolicy; steps: [dt: number, op: 'take' | 'refund', points: number][] }[] = [
      {
        policy: { capacity: 1000, restoreRate: 50 },
        steps: [
          [0, 'take', 1000],
          [0, 'take', 1],
          [19, 'take', 1],
          [1, 'take', 1],
          [1000, 'take', 50],
          [0, 'refund', 30],
          [0, 'take', 31],
          [0, 'take', 30],
          [0, 'take', 2000],
        ],
      },
      {
        policy: { capacity: 100, restoreRate: 8 },
        steps: [
          [0, 'take', 97],
          [0, 'take', 10],
          [874, 'take', 10],
          [1, 'take', 10],
          [250, 'refund', 1000],
          [0, 'take', 0],
          [0, 'take', 99.5],
          [7, 'take', 0.5],
        ],
      },
      {
        policy: { capacity: 7.5, restoreRate: 0.5 },
        steps: [
          [0, 'take', 7.5],
          [0, 'take', 1],
          [2000, 'take', 2],
          [5999, 'take', 2],
          [1, 'take', 2],
          [2000, 'refund', 0.5],
          [0, 'take', 3],
        ],
      },
    ];
    for (const [i, { policy, steps }] of cases.entries()) {
      const key = `xcheck-${i}-${randomUUID()}`;
      let state: BucketState;
      for (const [dt, op, points] of steps) {
        now += dt;
        if (op === 'refund') {
          await store.refund(key, points, policy);
          state = pureRefund(state, points, policy, now);
          continue;
        }
        const { newTat, ...expected } = pureTake(state, points, policy, now);
        if (expected.allowed) state = newTat;
        const actual = await store.take(key, points, policy);
        expect(actual, `case ${i}: ${op} ${points} at +${dt}`).toEqual({
          ...expected,
          limit: policy.capacity,
          source: 'redis',
        });
      }
    }
  });

  it('stores the TAT as a ms string with 3 decimals and expires the key when the bucket is full again', async () => {
    const store = make(() => 1_700_000_000_000.5);
    const policy: RatePolicy = { capacity: 3, restoreRate: 3 };
    const key = `format-${randomUUID()}`;
    await store.take(key, 1, policy);
    const stored = await admin?.get(keyPrefix + key);
    // 0.5 + 333.333… ms, rounded up to the µs so the stored state never admits early.
    expect(stored).toBe('1700000000333.834');
    const ttl = await admin?.pttl(keyPrefix + key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(334);
  });
});

describe('redis store: options', () => {
  it('rejects bad options before connecting', () => {
    expect(() => createRedisStore({ url: '' })).toThrow(TypeError);
    expect(() => createRedisStore({ url: 'redis://127.0.0.1:1', timeoutMs: 0 })).toThrow(RangeError);
    expect(() => createRedisStore({ url: 'redis://127.0.0.1:1', connectTimeoutMs: -1 })).toThrow(RangeError);
  });
});
