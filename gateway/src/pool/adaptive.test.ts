import { describe, expect, it } from 'vitest';
import {
  ATTEMPT_TIMEOUT_DEFAULTS,
  attemptTimeoutMs,
  HEDGING_DEFAULTS,
  HedgeBudget,
  hedgeDelayMs,
  MIN_SAMPLES,
  SubgraphLatency,
} from './adaptive.ts';

const timeouts = { ...ATTEMPT_TIMEOUT_DEFAULTS, enabled: true, minMs: 50, maxMs: 2_000 };
const hedging = { ...HEDGING_DEFAULTS, enabled: true, minDelayMs: 5 };

function window(values: number[]): SubgraphLatency {
  const w = new SubgraphLatency(100, 1);
  for (const v of values) w.record(v);
  return w;
}

describe('adaptive attempt timeout', () => {
  it('follows the subgraph latency: p99 × factor', () => {
    // 1..100 ms: p99 = 99
    expect(attemptTimeoutMs(timeouts, window(Array.from({ length: 100 }, (_, i) => i + 1)))).toBe(297);
    // the subgraph gets slower: the timeout follows
    expect(attemptTimeoutMs(timeouts, window(Array.from({ length: 100 }, (_, i) => 3 * (i + 1))))).toBe(891);
  });

  it('stays within [minMs, maxMs]', () => {
    expect(attemptTimeoutMs(timeouts, window(new Array(50).fill(1)))).toBe(50);
    expect(attemptTimeoutMs(timeouts, window(new Array(50).fill(5_000)))).toBe(2_000);
  });

  it('is off before enough samples, and when disabled', () => {
    expect(attemptTimeoutMs(timeouts, window(new Array(MIN_SAMPLES - 1).fill(10)))).toBeUndefined();
    expect(attemptTimeoutMs(timeouts, window(new Array(MIN_SAMPLES).fill(10)))).toBe(50);
    expect(attemptTimeoutMs({ ...timeouts, enabled: false }, window(new Array(50).fill(10)))).toBeUndefined();
  });

  it('timed-out attempts recorded at their timeout raise it (a subgraph slow everywhere is not cut forever)', () => {
    const w = window(new Array(99).fill(10));
    expect(attemptTimeoutMs(timeouts, w)).toBe(50);
    for (let i = 0; i < 2; i++) w.record(50); // two attempts cut at 50 ms: now past the p99
    expect(attemptTimeoutMs(timeouts, w)).toBe(150);
  });

  it('refreshes its sorted copy only every refreshEvery samples', () => {
    const w = new SubgraphLatency(10, 5);
    for (let i = 0; i < 10; i++) w.record(1);
    expect(w.percentile(100)).toBe(1);
    for (let i = 0; i < 4; i++) w.record(100);
    expect(w.percentile(100)).toBe(1); // still the last refresh
    w.record(100);
    expect(w.percentile(100)).toBe(100);
    expect(w.count).toBe(15);
  });
});

describe('hedge delay', () => {
  it('is the subgraph p95, at least minDelayMs; none before enough samples or when off', () => {
    expect(hedgeDelayMs(hedging, window(Array.from({ length: 100 }, (_, i) => i + 1)))).toBe(95);
    expect(hedgeDelayMs(hedging, window(new Array(30).fill(1)))).toBe(5);
    expect(hedgeDelayMs(hedging, window(new Array(MIN_SAMPLES - 1).fill(10)))).toBeUndefined();
    expect(hedgeDelayMs({ ...hedging, enabled: false }, window(new Array(30).fill(10)))).toBeUndefined();
  });
});

describe('hedge budget', () => {
  it('allows at most maxExtraPercent of the fetches in the window', () => {
    let now = 0;
    const b = new HedgeBudget({ maxExtraPercent: 10, windowMs: 10_000 }, () => now);
    expect(b.tryAcquire()).toBe(false); // nothing started: nothing to hedge
    for (let i = 0; i < 100; i++) b.fetchStarted();
    const granted = Array.from({ length: 50 }, () => b.tryAcquire()).filter(Boolean).length;
    expect(granted).toBe(10);
    // the window slides: after it, the old fetches and hedges no longer count
    now = 10_001;
    expect(b.tryAcquire()).toBe(false);
    for (let i = 0; i < 20; i++) b.fetchStarted();
    expect(b.tryAcquire()).toBe(true);
    expect(b.tryAcquire()).toBe(true);
    expect(b.tryAcquire()).toBe(false);
  });

  it('forgets bucket by bucket', () => {
    let now = 0;
    const b = new HedgeBudget({ maxExtraPercent: 50, windowMs: 1_000 }, () => now);
    for (let i = 0; i < 10; i++) b.fetchStarted(); // bucket 0
    now = 500;
    for (let i = 0; i < 2; i++) b.fetchStarted(); // bucket 5
    expect(Array.from({ length: 10 }, () => b.tryAcquire()).filter(Boolean).length).toBe(6);
    now = 1_050; // bucket 0 gone: 2 fetches left, 6 hedges still counted in bucket 5
    expect(b.tryAcquire()).toBe(false);
    now = 1_600; // everything gone
    for (let i = 0; i < 2; i++) b.fetchStarted();
    expect(b.tryAcquire()).toBe(true);
  });

  it('a 0 percent budget never hedges', () => {
    const b = new HedgeBudget({ maxExtraPercent: 0, windowMs: 1_000 }, () => 0);
    for (let i = 0; i < 1_000; i++) b.fetchStarted();
    expect(b.tryAcquire()).toBe(false);
  });
});
