// Test-only: the behaviour every RateLimitStore must show, run by memory-store.test.ts and
// redis-store.test.ts against their backend (envelop keeps one spec per store; ours share this one).
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { RatePolicy } from './bucket.ts';
import type { RateDecision, RateLimitStore } from './store.ts';
import { RATELIMIT_STORE_UNAVAILABLE } from './store.ts';

/** What a factory may be asked for: a test clock in ms (Redis passes it to the script instead of TIME). */
export interface StoreFactoryOptions {
  now?: () => number;
}

export type StoreFactory = (options: StoreFactoryOptions) => RateLimitStore;

/** Waits until at least `ms` have passed on the monotonic clock (timers may fire a little early). */
export async function sleepAtLeast(ms: number): Promise<void> {
  const until = performance.now() + ms;
  for (let left = ms; left > 0; left = until - performance.now()) await sleep(Math.ceil(left) + 1);
}

const pick = ({ allowed, remaining, retryAfterMs, resetAfterMs }: RateDecision) => ({
  allowed,
  remaining,
  retryAfterMs,
  resetAfterMs,
});

export function describeStoreBehaviour(
  name: string,
  factory: StoreFactory,
  options: { skip?: boolean; source: RateDecision['source'] },
): void {
  describe.skipIf(options.skip ?? false)(`${name}: RateLimitStore behaviour`, () => {
    const open: RateLimitStore[] = [];
    const make = (opts: StoreFactoryOptions = {}) => {
      const store = factory(opts);
      open.push(store);
      return store;
    };
    const key = () => `k-${randomUUID()}`;

    afterEach(async () => {
      await Promise.all(open.splice(0).map((store) => store.close()));
    });

    it('T-R1 exactly, on a test clock: 1000 then 1 (retry 20 ms) then 50 after 1 s', async () => {
      let now = 1_000_000;
      const store = make({ now: () => now });
      const policy: RatePolicy = { capacity: 1000, restoreRate: 50 };
      const k = key();
      const first = await store.take(k, 1000, policy);
      expect(pick(first)).toEqual({ allowed: true, remaining: 0, retryAfterMs: 0, resetAfterMs: 20_000 });
      expect(first.limit).toBe(1000);
      expect(first.source).toBe(options.source);
      expect(pick(await store.take(k, 1, policy))).toEqual({
        allowed: false,
        remaining: 0,
        retryAfterMs: 20,
        resetAfterMs: 20_000,
      });
      now += 19;
      expect((await store.take(k, 1, policy)).allowed).toBe(false);
      now += 1;
      expect(pick(await store.take(k, 1, policy))).toEqual({
        allowed: true,
        remaining: 0,
        retryAfterMs: 0,
        resetAfterMs: 20_000,
      });
      now += 1000;
      expect(pick(await store.take(k, 50, policy))).toEqual({
        allowed: true,
        remaining: 0,
        retryAfterMs: 0,
        resetAfterMs: 20_000,
      });
    });

    it('T-R1 scaled to its own clock (rate 10, burst 200): denied with retry <= 100 ms, admits 5 after 0.5 s', async () => {
      const store = make();
      const policy: RatePolicy = { capacity: 200, restoreRate: 10 };
      const k = key();
      expect(pick(await store.take(k, 200, policy))).toMatchObject({ allowed: true, remaining: 0 });
      const denied = await store.take(k, 1, policy);
      expect(denied.allowed).toBe(false);
      expect(denied.remaining).toBe(0);
      expect(denied.retryAfterMs).toBeGreaterThan(0);
      expect(denied.retryAfterMs).toBeLessThanOrEqual(100);
      await sleepAtLeast(500);
      expect((await store.take(k, 5, policy)).allowed).toBe(true);
    });

    it('admits the same take after waiting retryAfterMs', async () => {
      const store = make();
      const policy: RatePolicy = { capacity: 10, restoreRate: 20 };
      const k = key();
      expect((await store.take(k, 10, policy)).allowed).toBe(true);
      const denied = await store.take(k, 4, policy);
      expect(denied.allowed).toBe(false);
      expect(denied.retryAfterMs).toBeGreaterThan(0);
      expect(denied.retryAfterMs).toBeLessThanOrEqual(200); // 4 points at 50 ms each, minus time elapsed
      await sleepAtLeast(denied.retryAfterMs);
      expect((await store.take(k, 4, policy)).allowed).toBe(true);
    });

    it('retryAfterMs is exact on a test clock: one ms earlier is still denied', async () => {
      let now = 5_000;
      const store = make({ now: () => now });
      const policy: RatePolicy = { capacity: 100, restoreRate: 8 }; // 125 ms per point
      const k = key();
      await store.take(k, 97, policy);
      const denied = await store.take(k, 10, policy); // 3 left, 7 missing: 875 ms
      expect(pick(denied)).toEqual({ allowed: false, remaining: 3, retryAfterMs: 875, resetAfterMs: 12_125 });
      now += denied.retryAfterMs - 1;
      expect((await store.take(k, 10, policy)).allowed).toBe(false);
      now += 1;
      expect(pick(await store.take(k, 10, policy))).toMatchObject({ allowed: true, remaining: 0 });
    });

    it('refunds give points back, never beyond capacity, and ignore unknown keys', async () => {
      let now = 0;
      const store = make({ now: () => now });
      const policy: RatePolicy = { capacity: 100, restoreRate: 1 };
      const k = key();
      expect((await store.take(k, 80, policy)).remaining).toBe(20);
      await store.refund(k, 50, policy);
      expect(pick(await store.take(k, 70, policy))).toMatchObject({ allowed: true, remaining: 0 });
      await store.refund(k, 10_000, policy);
      expect(pick(await store.take(k, 100, policy))).toMatchObject({ allowed: true, remaining: 0 });
      expect((await store.take(k, 1, policy)).allowed).toBe(false);
      await store.refund(key(), 5, policy);
      await store.refund(k, 0, policy);
      now += 1000; // one point back at 1 point/s
      expect(await store.take(k, 1, policy)).toMatchObject({ allowed: true, remaining: 0 });
    });

    it('refunds on the real clock', async () => {
      const store = make();
      const policy: RatePolicy = { capacity: 100, restoreRate: 0.1 };
      const k = key();
      await store.take(k, 90, policy);
      await store.refund(k, 60, policy);
      expect(await store.take(k, 70, policy)).toMatchObject({ allowed: true, remaining: 0 });
    });

    it('200 concurrent takes against one budget admit exactly what it allows', async () => {
      const store = make();
      const policy: RatePolicy = { capacity: 50, restoreRate: 0.1 }; // refill is 10 s per point: negligible
      for (const [cost, expected] of [
        [1, 50],
        [3, 16],
      ] as const) {
        const k = key();
        const decisions = await Promise.all(Array.from({ length: 200 }, () => store.take(k, cost, policy)));
        expect(decisions.filter((d) => d.allowed)).toHaveLength(expected);
        expect(Math.min(...decisions.map((d) => d.remaining))).toBe(50 - cost * expected);
      }
    });

    it('a cost above capacity is refused at once with an infinite retry, and spends nothing', async () => {
      const store = make();
      const policy: RatePolicy = { capacity: 10, restoreRate: 1 };
      const k = key();
      expect(await store.take(k, 11, policy)).toMatchObject({
        allowed: false,
        remaining: 10,
        retryAfterMs: Number.POSITIVE_INFINITY,
      });
      expect((await store.take(k, 10, policy)).allowed).toBe(true);
    });

    it('a zero cost is always admitted and keys are independent', async () => {
      const store = make();
      const policy: RatePolicy = { capacity: 5, restoreRate: 0.1 };
      const [a, b] = [key(), key()];
      expect((await store.take(a, 5, policy)).allowed).toBe(true);
      expect(await store.take(a, 0, policy)).toMatchObject({ allowed: true, remaining: 0 });
      expect(await store.take(b, 5, policy)).toMatchObject({ allowed: true, remaining: 0 });
    });

    it('rejects bad input as a caller error, not as an outage', async () => {
      const store = make();
      const policy: RatePolicy = { capacity: 5, restoreRate: 1 };
      await expect(store.take('', 1, policy)).rejects.toThrow(TypeError);
      await expect(store.take(key(), -1, policy)).rejects.toThrow(RangeError);
      await expect(store.take(key(), Number.NaN, policy)).rejects.toThrow(RangeError);
      await expect(store.take(key(), 1, { capacity: 0, restoreRate: 1 })).rejects.toThrow(RangeError);
      await expect(store.refund(key(), -5, policy)).rejects.toThrow(RangeError);
    });

    it('rejects with RATELIMIT_STORE_UNAVAILABLE after close', async () => {
      const store = make();
      await store.close();
      await store.close();
      await expect(store.take(key(), 1, { capacity: 5, restoreRate: 1 })).rejects.toMatchObject({
        code: RATELIMIT_STORE_UNAVAILABLE,
      });
    });
  });
}
