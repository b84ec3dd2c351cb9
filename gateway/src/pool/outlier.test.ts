import { describe, expect, it } from 'vitest';
import { OutlierDetector, type OutlierOptions } from './outlier.ts';

function setup(hosts: number, options: OutlierOptions = {}) {
  const clock = { now: 1_000 };
  const d = new OutlierDetector(options, () => clock.now);
  const ids = Array.from({ length: hosts }, (_, i) => `r${i}`);
  for (const id of ids) d.add(id);
  const fail = (id: string, n: number) => Array.from({ length: n }, () => d.failure(id)).some(Boolean);
  return { d, ids, clock, fail };
}

describe('outlier detection (consecutive failures)', () => {
  it('ejects after 5 consecutive failures, for 30 s, then lets it back (T-F5 defaults)', () => {
    const { d, clock, fail } = setup(3);
    expect(fail('r0', 4)).toBe(false);
    expect(d.isEjected('r0')).toBe(false);
    expect(d.failure('r0')).toBe(true);
    expect(d.isEjected('r0')).toBe(true);
    expect(d.info('r0')).toEqual({ consecutiveFailures: 0, timesEjected: 1, ejectedForMs: 30_000 });
    clock.now += 29_999;
    expect(d.isEjected('r0')).toBe(true);
    expect(d.sweep()).toEqual([]);
    clock.now += 1;
    expect(d.isEjected('r0')).toBe(false);
    expect(d.sweep()).toEqual(['r0']);
    expect(d.sweep()).toEqual([]);
  });

  it('a success resets the count', () => {
    const { d, fail } = setup(3);
    fail('r0', 4);
    d.success('r0');
    expect(fail('r0', 4)).toBe(false);
    expect(d.failure('r0')).toBe(true);
  });

  // base × times ejected, capped at max; the multiplier decays by one per 10 s un-ejected
  const backoff: { name: string; gapsMs: number[]; expected: number[] }[] = [
    { name: 'grows with each ejection', gapsMs: [0, 0, 0], expected: [30_000, 60_000, 90_000] },
    {
      name: 'capped at max',
      gapsMs: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
      expected: [30, 60, 90, 120, 150, 180, 210, 240, 270, 300, 300].map((s) => s * 1000),
    },
    { name: 'decays while the replica behaves', gapsMs: [20_000, 0, 0], expected: [30_000, 30_000, 60_000] },
  ];
  it.each(backoff)('ejection time $name', ({ gapsMs, expected }) => {
    const { d, clock, fail } = setup(3);
    const got: number[] = [];
    for (const gap of gapsMs) {
      fail('r0', 5);
      got.push(d.info('r0').ejectedForMs);
      clock.now += d.info('r0').ejectedForMs; // serve the ejection
      d.sweep();
      clock.now += gap; // then behave for a while
    }
    expect(got).toEqual(expected);
  });

  const percent: { hosts: number; maxPercent: number; expected: number }[] = [
    { hosts: 3, maxPercent: 10, expected: 1 }, // at least one
    { hosts: 20, maxPercent: 10, expected: 2 },
    { hosts: 4, maxPercent: 50, expected: 2 },
    { hosts: 4, maxPercent: 0, expected: 1 },
  ];
  it.each(percent)(
    'max ejection $maxPercent% of $hosts ejects at most $expected',
    ({ hosts, maxPercent, expected }) => {
      const { d, ids, fail } = setup(hosts, { maxEjectionPercent: maxPercent });
      for (const id of ids) fail(id, 5);
      expect(d.maxEjected()).toBe(expected);
      expect(d.ejectedCount()).toBe(expected);
    },
  );

  it('a replica left in because of the cap is ejected once there is room', () => {
    const { d, clock, fail } = setup(3);
    fail('r0', 5);
    expect(fail('r1', 5)).toBe(false);
    clock.now += 30_000;
    d.sweep();
    expect(d.failure('r1')).toBe(true); // still failing: its count kept running
  });

  it('a passing active check un-ejects', () => {
    const { d, fail } = setup(3);
    fail('r0', 5);
    expect(d.uneject('r0')).toBe(true);
    expect(d.isEjected('r0')).toBe(false);
    expect(d.uneject('r0')).toBe(false);
    expect(d.sweep()).toEqual([]);
  });

  it('consecutiveFailures 0 turns ejection off; unknown ids are ignored', () => {
    const { d, fail } = setup(3, { consecutiveFailures: 0 });
    expect(fail('r0', 50)).toBe(false);
    expect(d.failure('nope')).toBe(false);
    d.remove('r0');
    expect(d.info('r0')).toEqual({ consecutiveFailures: 0, timesEjected: 0, ejectedForMs: 0 });
  });
});
