import { describe, expect, it } from 'vitest';
import { LatencyWindow } from './latency.ts';

describe('latency window', () => {
  it('gives nearest-rank percentiles of the last samples', () => {
    const w = new LatencyWindow(100);
    expect(w.percentile(50)).toBeNull();
    for (let i = 1; i <= 100; i++) w.record(i);
    expect(w.percentile(50)).toBe(50);
    expect(w.percentile(99)).toBe(99);
    expect(w.percentile(100)).toBe(100);
    for (let i = 0; i < 100; i++) w.record(1_000); // the window rolls over
    expect(w.percentile(50)).toBe(1_000);
    expect(w.count).toBe(200);
  });
});
