import { describe, expect, it } from 'vitest';
import { GradientLimit, type GradientLimitOptions } from './gradient-limit.ts';

/**
 * Drives a limit through `windows` windows of 10 samples each (10 ms apart: one window per 100 ms),
 * every sample with latency `rtt(window)` and `inflight` requests in flight (default: the limit itself,
 * a saturated gateway). Returns the limit after each window.
 */
function drive(
  limit: GradientLimit,
  windows: number,
  rtt: (window: number) => number,
  inflight: (limit: number) => number = (l) => l,
  start = { t: 0 },
): number[] {
  const seen: number[] = [];
  for (let w = 0; w < windows; w++) {
    for (let i = 0; i < 10; i++) {
      start.t += 10;
      limit.sample(rtt(w), inflight(limit.limit), start.t);
    }
    seen.push(limit.state.limit);
  }
  return seen;
}

const make = (o: Partial<GradientLimitOptions> = {}) => new GradientLimit({ max: 1000, initial: 20, ...o });

describe('GradientLimit', () => {
  it('grows while latency stays flat and the gateway is busy', () => {
    const limit = make();
    const seen = drive(limit, 50, () => 10);
    expect(seen.at(-1)).toBeGreaterThan(40);
    // monotonic growth: each window adds a share of the queue allowance
    for (let i = 12; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1]!);
  });

  it('shrinks when latency rises past the tolerance', () => {
    const limit = make({ initial: 200 });
    const clock = { t: 0 };
    drive(limit, 20, () => 10, undefined, clock); // learn a 10 ms baseline
    const before = limit.state.limit;
    const seen = drive(limit, 20, () => 60, undefined, clock); // six times slower
    expect(seen.at(-1)).toBeLessThan(before * 0.3);
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeLessThanOrEqual(seen[i - 1]!);
  });

  it('shrinks at once, not by a smoothed share: halved in the first slow window, near min within five', () => {
    const limit = make({ initial: 100, min: 4 });
    const clock = { t: 0 };
    // a baseline of 10 ms, while idle (the limit stays)
    drive(
      limit,
      12,
      () => 10,
      () => 1,
      clock,
    );
    expect(limit.state.limit).toBe(100);
    const seen = drive(limit, 5, () => 200, undefined, clock); // twenty times slower, saturated
    // limit × gradient + √limit, the gradient at its floor 0.5: 100 → ~60 → ~38 → … (smoothed by 0.2,
    // the first window would have left 92)
    expect(seen[0]).toBeGreaterThan(55);
    expect(seen[0]).toBeLessThan(65);
    expect(seen.at(-1)).toBeLessThan(16);
  });

  it('does not shrink for latency within the tolerance', () => {
    const limit = make({ initial: 100, tolerance: 1.5 });
    const clock = { t: 0 };
    drive(limit, 20, () => 10, undefined, clock);
    const before = limit.state.limit;
    drive(limit, 10, () => 14, undefined, clock); // 1.4× the baseline
    expect(limit.state.limit).toBeGreaterThanOrEqual(before);
  });

  it('comes back after an overload ends', () => {
    const limit = make({ initial: 100 });
    const clock = { t: 0 };
    drive(limit, 20, () => 10, undefined, clock);
    drive(limit, 30, () => 100, undefined, clock);
    const low = limit.state.limit;
    drive(limit, 60, () => 10, undefined, clock);
    expect(limit.state.limit).toBeGreaterThan(low * 2);
  });

  it('leaves the limit alone while the gateway is mostly idle (peak in flight under half the limit)', () => {
    const limit = make({ initial: 100 });
    drive(
      limit,
      30,
      (w) => (w < 15 ? 10 : 100),
      () => 3,
    );
    expect(limit.state.limit).toBe(100);
  });

  it('never leaves [min, max]', () => {
    const low = make({ min: 8, initial: 20 });
    drive(low, 200, (w) => 10 * 2 ** Math.min(w, 20));
    expect(low.state.limit).toBeGreaterThanOrEqual(8);
    expect(low.limit).toBeGreaterThanOrEqual(8);
    const high = make({ max: 30, initial: 20 });
    drive(high, 300, () => 10);
    expect(high.state.limit).toBeLessThanOrEqual(30);
    expect(high.limit).toBe(30);
  });

  it('ignores windows with too few samples', () => {
    const limit = make({ initial: 100 });
    // one sample every 200 ms: every window closes with a single sample
    for (let i = 1; i <= 50; i++) limit.sample(i < 25 ? 10 : 500, 100, i * 200);
    expect(limit.state.limit).toBe(100);
    expect(limit.state.longRttMs).toBe(0);
  });

  it('ignores samples that are not durations', () => {
    const limit = make();
    limit.sample(Number.NaN, 20, 1);
    limit.sample(-5, 20, 2);
    limit.sample(Number.POSITIVE_INFINITY, 20, 3);
    expect(limit.state).toEqual({ limit: 20, shortRttMs: 0, longRttMs: 0 });
  });

  it.each([
    [{ max: 0 }, /max must be a positive number/],
    [{ max: 10, min: -1 }, /min must be a positive number/],
    [{ max: 10, smoothing: 0 }, /smoothing must be in/],
    [{ max: 10, smoothing: 2 }, /smoothing must be in/],
    [{ max: 10, tolerance: 0.5 }, /tolerance must be at least 1/],
    [{ max: 10, windowMinMs: 100, windowMaxMs: 50 }, /windowMaxMs must be at least 100/],
  ])('refuses bad options %j', (options, message) => {
    expect(() => new GradientLimit(options as GradientLimitOptions)).toThrow(message);
  });

  it('clamps an initial limit outside [min, max]', () => {
    expect(make({ initial: 5000, max: 50 }).limit).toBe(50);
    expect(make({ initial: 1, min: 4 }).limit).toBe(4);
  });
});
