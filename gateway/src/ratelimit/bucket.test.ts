import { describe, expect, it } from 'vitest';
import type { BucketState, RatePolicy, TakeResult } from './bucket.ts';
import { fullRefillMs, refund, take } from './bucket.ts';

type Step =
  | { at: number; take: number; expect: Omit<TakeResult, 'newTat'> }
  | { at: number; refund: number; expectTat: BucketState };

// Each case replays steps on one bucket; a take persists newTat only when allowed, as the stores do.
const cases: { name: string; policy: RatePolicy; steps: Step[] }[] = [
  {
    name: 'T-R1: rate 50, burst 1000',
    policy: { capacity: 1000, restoreRate: 50 },
    steps: [
      { at: 0, take: 1000, expect: { allowed: true, remaining: 0, retryAfterMs: 0, resetAfterMs: 20_000 } },
      { at: 0, take: 1, expect: { allowed: false, remaining: 0, retryAfterMs: 20, resetAfterMs: 20_000 } },
      { at: 1000, take: 50, expect: { allowed: true, remaining: 0, retryAfterMs: 0, resetAfterMs: 20_000 } },
    ],
  },
  {
    name: 'fresh bucket, partial spends, refill in between',
    policy: { capacity: 10, restoreRate: 2 }, // 500 ms per point
    steps: [
      { at: 0, take: 4, expect: { allowed: true, remaining: 6, retryAfterMs: 0, resetAfterMs: 2000 } },
      { at: 0, take: 7, expect: { allowed: false, remaining: 6, retryAfterMs: 500, resetAfterMs: 2000 } },
      { at: 499, take: 7, expect: { allowed: false, remaining: 6, retryAfterMs: 1, resetAfterMs: 1501 } },
      { at: 500, take: 7, expect: { allowed: true, remaining: 0, retryAfterMs: 0, resetAfterMs: 5000 } },
      { at: 5500, take: 0, expect: { allowed: true, remaining: 10, retryAfterMs: 0, resetAfterMs: 0 } },
    ],
  },
  {
    name: 'an idle bucket never holds more than its capacity',
    policy: { capacity: 5, restoreRate: 1 },
    steps: [
      { at: 0, take: 5, expect: { allowed: true, remaining: 0, retryAfterMs: 0, resetAfterMs: 5000 } },
      {
        at: 3_600_000,
        take: 6,
        expect: { allowed: false, remaining: 5, retryAfterMs: Infinity, resetAfterMs: 0 },
      },
      {
        at: 3_600_000,
        take: 5,
        expect: { allowed: true, remaining: 0, retryAfterMs: 0, resetAfterMs: 5000 },
      },
    ],
  },
  {
    name: 'cost above capacity is never admissible, even on a full bucket',
    policy: { capacity: 100, restoreRate: 1000 },
    steps: [
      {
        at: 0,
        take: 101,
        expect: { allowed: false, remaining: 100, retryAfterMs: Infinity, resetAfterMs: 0 },
      },
      { at: 0, take: 100, expect: { allowed: true, remaining: 0, retryAfterMs: 0, resetAfterMs: 100 } },
    ],
  },
  {
    name: 'float rates: thirds of a second add back up without spurious denials',
    policy: { capacity: 3, restoreRate: 3 },
    steps: [
      { at: 0, take: 1, expect: { allowed: true, remaining: 2, retryAfterMs: 0, resetAfterMs: 334 } },
      { at: 0, take: 1, expect: { allowed: true, remaining: 1, retryAfterMs: 0, resetAfterMs: 667 } },
      { at: 0, take: 1, expect: { allowed: true, remaining: 0, retryAfterMs: 0, resetAfterMs: 1000 } },
      { at: 0, take: 1, expect: { allowed: false, remaining: 0, retryAfterMs: 334, resetAfterMs: 1000 } },
      { at: 1000, take: 3, expect: { allowed: true, remaining: 0, retryAfterMs: 0, resetAfterMs: 1000 } },
    ],
  },
  {
    name: 'fractional costs and policies (a scaled fallback share)',
    policy: { capacity: 333.5, restoreRate: 16.75 },
    steps: [
      { at: 0, take: 333.5, expect: { allowed: true, remaining: 0, retryAfterMs: 0, resetAfterMs: 19_911 } },
      { at: 0, take: 0.5, expect: { allowed: false, remaining: 0, retryAfterMs: 30, resetAfterMs: 19_911 } },
    ],
  },
  {
    name: 'refunds: estimated minus actual goes back, clamped at a full bucket',
    policy: { capacity: 100, restoreRate: 10 }, // 100 ms per point
    steps: [
      { at: 0, take: 90, expect: { allowed: true, remaining: 10, retryAfterMs: 0, resetAfterMs: 9000 } },
      { at: 0, refund: 30, expectTat: 6000 },
      { at: 0, take: 41, expect: { allowed: false, remaining: 40, retryAfterMs: 100, resetAfterMs: 6000 } },
      { at: 0, take: 40, expect: { allowed: true, remaining: 0, retryAfterMs: 0, resetAfterMs: 10_000 } },
      { at: 0, refund: 1000, expectTat: undefined },
      { at: 0, take: 100, expect: { allowed: true, remaining: 0, retryAfterMs: 0, resetAfterMs: 10_000 } },
      { at: 9000, refund: 0, expectTat: 10_000 },
      { at: 10_000, refund: 5, expectTat: undefined },
    ],
  },
];

describe('GCRA take/refund', () => {
  it.each(cases)('$name', ({ policy, steps }) => {
    let state: BucketState;
    for (const step of steps) {
      if ('take' in step) {
        const { newTat, ...result } = take(state, step.take, policy, step.at);
        expect(result, `take ${step.take} at ${step.at}`).toEqual(step.expect);
        if (result.allowed) state = newTat;
      } else {
        state = refund(state, step.refund, policy, step.at);
        expect(state, `refund ${step.refund} at ${step.at}`).toBe(step.expectTat);
      }
    }
  });

  it('a denial leaves the state as it was (max(tat, now))', () => {
    const policy = { capacity: 10, restoreRate: 1 };
    expect(take(15_000, 6, policy, 10_000)).toMatchObject({ allowed: false, newTat: 15_000 });
    expect(take(3_000, 11, policy, 10_000)).toMatchObject({ allowed: false, newTat: 10_000 });
  });

  it('waiting exactly retryAfterMs admits the same cost, across many rates', () => {
    for (const restoreRate of [0.3, 1, 3, 7, 50, 333, 2000]) {
      const policy = { capacity: 100, restoreRate };
      let state = take(undefined, 100, policy, 0).newTat;
      for (const cost of [1, 7, 33.3, 100]) {
        const denied = take(state, cost, policy, 0);
        expect(denied.allowed).toBe(false);
        const retried = take(state, cost, policy, denied.retryAfterMs);
        expect(retried.allowed, `rate ${restoreRate} cost ${cost}`).toBe(true);
        expect(take(state, cost, policy, denied.retryAfterMs - 1).allowed).toBe(false);
        state = take(undefined, 100, policy, 0).newTat;
      }
    }
  });

  it('fullRefillMs is the burst tolerance', () => {
    expect(fullRefillMs({ capacity: 1000, restoreRate: 50 })).toBe(20_000);
  });

  describe('abuse', () => {
    const policy = { capacity: 10, restoreRate: 1 };
    it.each([
      ['capacity 0', { capacity: 0, restoreRate: 1 }],
      ['negative capacity', { capacity: -1, restoreRate: 1 }],
      ['infinite capacity', { capacity: Infinity, restoreRate: 1 }],
      ['rate 0', { capacity: 1, restoreRate: 0 }],
      ['NaN rate', { capacity: 1, restoreRate: Number.NaN }],
      ['string rate', { capacity: 1, restoreRate: '5' as unknown as number }],
    ])('rejects a policy with %s', (_, bad) => {
      expect(() => take(undefined, 1, bad, 0)).toThrow(RangeError);
      expect(() => refund(undefined, 1, bad, 0)).toThrow(RangeError);
    });
    it.each([-1, Number.NaN, Infinity])('rejects cost and amount %s', (bad) => {
      expect(() => take(undefined, bad, policy, 0)).toThrow(/cost must be a finite number >= 0/);
      expect(() => refund(1, bad, policy, 0)).toThrow(/amount must be a finite number >= 0/);
    });
    it('rejects a non-finite clock', () => {
      expect(() => take(undefined, 1, policy, Number.NaN)).toThrow(/clock/);
    });
  });
});
