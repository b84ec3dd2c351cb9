import { describe, expect, it } from 'vitest';
import { slowStartFactor } from '../slow-start.ts';
import {
  createStrategy,
  type Endpoint,
  effectiveWeight,
  LeastOutstanding,
  P2cEwma,
  PEAK_EWMA_PENALTY,
  PeakEwma,
  RoundRobin,
  type StrategyName,
} from './index.ts';

const ep = (id: string, weight = 1, outstanding = 0, cost = 0): Endpoint => ({
  id,
  weight,
  outstanding,
  cost,
});

/** A repeatable random in [0, 1) (mulberry32), so ratio tests do not flake. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('round_robin (smooth weighted)', () => {
  // Pick order in the style of undici's balanced-pool cases.
  const cases: { name: string; weights: number[]; picks: number; order: string }[] = [
    { name: 'equal weights rotate', weights: [1, 1, 1], picks: 6, order: 'abcabc' },
    { name: '2:1 interleaves', weights: [2, 1], picks: 6, order: 'abaaba' },
    { name: '5:1:1 as NGINX', weights: [5, 1, 1], picks: 7, order: 'aabacaa' },
    { name: 'one replica', weights: [3], picks: 3, order: 'aaa' },
  ];
  it.each(cases)('$name: $order', ({ weights, picks, order }) => {
    const rr = new RoundRobin();
    const eps = weights.map((w, i) => ep(String.fromCharCode(97 + i), w));
    const got = Array.from({ length: picks }, () => rr.pick(eps)!.id).join('');
    expect(got).toBe(order);
  });

  const ratios: { weights: number[]; expected: number[] }[] = [
    { weights: [1, 1, 1], expected: [1 / 3, 1 / 3, 1 / 3] },
    { weights: [5, 1, 1], expected: [5 / 7, 1 / 7, 1 / 7] },
    { weights: [1, 0.1], expected: [1 / 1.1, 0.1 / 1.1] },
  ];
  it.each(ratios)('traffic ratio follows weights $weights', ({ weights, expected }) => {
    const rr = new RoundRobin();
    const eps = weights.map((w, i) => ep(String(i), w));
    const counts = new Array(eps.length).fill(0);
    const n = 7_700;
    for (let i = 0; i < n; i++) counts[Number(rr.pick(eps)!.id)]++;
    for (const [i, c] of counts.entries()) expect(c / n).toBeCloseTo(expected[i]!, 2);
  });

  it('keeps rotating when the candidate list changes (a replica tried or ejected)', () => {
    const rr = new RoundRobin();
    const [a, b, c] = [ep('a'), ep('b'), ep('c')];
    expect(rr.pick([a, b, c])!.id).toBe('a');
    expect(rr.pick([a, c])!.id).toBe('c'); // b is out; a was just used
    expect(rr.pick([a, b, c])!.id).toBe('b');
    rr.forget('b');
    expect(rr.pick([])).toBeUndefined();
  });
});

describe('least_outstanding', () => {
  it('T-L1: weight 2 with 4 active requests has effective weight 0.4', () => {
    expect(effectiveWeight(2, 4)).toBeCloseTo(0.4, 10);
    expect(effectiveWeight(2, 4, 0)).toBe(2); // bias 0 ignores load: plain weights
    expect(effectiveWeight(1, 0)).toBe(1);
  });

  const cases: { name: string; eps: Endpoint[]; expected: string[] }[] = [
    {
      name: 'fewest in flight wins',
      eps: [ep('a', 1, 3), ep('b', 1, 1), ep('c', 1, 2)],
      expected: ['b', 'b', 'b'],
    },
    { name: 'ties rotate', eps: [ep('a'), ep('b'), ep('c')], expected: ['a', 'b', 'c', 'a'] },
    // 2/(4+1) = 0.4 < 1/(1+1) = 0.5: the lighter replica wins despite its lower weight (T-L1)
    { name: 'weighted: 0.4 loses to 0.5', eps: [ep('a', 2, 4), ep('b', 1, 1)], expected: ['b', 'b'] },
    { name: 'weighted: 2/3 beats 1/2', eps: [ep('a', 2, 2), ep('b', 1, 1)], expected: ['a', 'a'] },
  ];
  it.each(cases)('$name', ({ eps, expected }) => {
    const lo = new LeastOutstanding();
    expect(expected.map(() => lo.pick(eps)!.id)).toEqual(expected);
  });

  it('balances live load: picks follow completions', () => {
    const lo = new LeastOutstanding();
    const load = new Map([
      ['a', 0],
      ['b', 0],
    ]);
    const eps = () => [...load].map(([id, o]) => ep(id, 1, o));
    const order: string[] = [];
    for (let i = 0; i < 4; i++) {
      const id = lo.pick(eps())!.id;
      order.push(id);
      load.set(id, load.get(id)! + 1);
    }
    load.set('b', 0); // b finished both
    order.push(lo.pick(eps())!.id);
    expect(order).toEqual(['a', 'b', 'a', 'b', 'b']);
  });
});

describe('peak EWMA (Finagle)', () => {
  const cases: { name: string; steps: [at: number, rtt: number | null][]; expected: number }[] = [
    { name: 'no history is 0', steps: [], expected: 0 },
    { name: 'the first sample is taken as is', steps: [[0, 100]], expected: 100 },
    {
      name: 'a peak replaces the cost at once',
      steps: [
        [0, 10],
        [1, 500],
      ],
      expected: 500,
    },
    // cost·w + rtt·(1−w) with w = e^(−Δt/τ), τ = 1000: 100·e^−1 + 10·(1−e^−1)
    {
      name: 'a lower sample decays towards it',
      steps: [
        [0, 100],
        [1000, 10],
      ],
      expected: 100 * Math.exp(-1) + 10 * (1 - Math.exp(-1)),
    },
    // reading decays towards 0, as Finagle's get() = observe(0)
    {
      name: 'idle time decays the cost',
      steps: [
        [0, 100],
        [1000, null],
      ],
      expected: 100 * Math.exp(-1),
    },
  ];
  it.each(cases)('$name', ({ steps, expected }) => {
    let now = 0;
    const ewma = new PeakEwma(1000, () => now);
    for (const [at, rtt] of steps) {
      now = at;
      if (rtt !== null) ewma.observe(rtt);
    }
    expect(ewma.cost).toBeCloseTo(expected, 6);
  });
});

describe('peak EWMA reset', () => {
  it('forgets the history, so the replica is probed like a new one', () => {
    let now = 0;
    const ewma = new PeakEwma(1000, () => now);
    ewma.observe(300);
    now = 5_000;
    ewma.reset();
    expect(ewma.cost).toBe(0);
    ewma.observe(20);
    expect(ewma.cost).toBe(20);
  });
});

describe('p2c_ewma', () => {
  /** Random that yields `values` in turn. */
  const script = (...values: number[]) => {
    let i = 0;
    return () => values[i++ % values.length]!;
  };

  const cases: { name: string; eps: Endpoint[]; random: number[]; expected: string }[] = [
    {
      name: 'lower cost × (outstanding+1) wins',
      eps: [ep('a', 1, 0, 10), ep('b', 1, 0, 5)],
      random: [0, 0],
      expected: 'b',
    },
    {
      name: 'outstanding multiplies cost',
      eps: [ep('a', 1, 3, 10), ep('b', 1, 0, 30)],
      random: [0, 0],
      expected: 'b',
    },
    {
      name: 'a fresh idle replica is tried',
      eps: [ep('a', 1, 0, 10), ep('b', 1, 0, 0)],
      random: [0, 0],
      expected: 'b',
    },
    {
      name: 'a fresh busy replica gets the penalty',
      eps: [ep('a', 1, 5, 1000), ep('b', 1, 1, 0)],
      random: [0, 0],
      expected: 'a',
    },
    {
      name: 'weight divides load (slow start at 10%)',
      eps: [ep('a', 1, 0, 10), ep('b', 0.1, 0, 5)],
      random: [0, 0],
      expected: 'a',
    },
    // i = floor(0.99·3) = 2 (c), j = floor(0.0·2) = 0 (a): b is never looked at, even though it is best
    {
      name: 'only the two sampled replicas compete',
      eps: [ep('a', 1, 0, 50), ep('b', 1, 0, 1), ep('c', 1, 0, 20)],
      random: [0.99, 0],
      expected: 'c',
    },
    { name: 'one candidate is taken', eps: [ep('a', 1, 9, 999)], random: [0.5], expected: 'a' },
  ];
  it.each(cases)('$name', ({ eps, random, expected }) => {
    expect(new P2cEwma({ random: script(...random) }).pick(eps)!.id).toBe(expected);
  });

  it('samples two distinct replicas', () => {
    const seen = new Set<string>();
    const p2c = new P2cEwma({ random: seeded(7) });
    const spy: Endpoint[] = ['a', 'b', 'c'].map((id) => ({
      id,
      weight: 1,
      outstanding: 0,
      get cost() {
        seen.add(id);
        return 1;
      },
    }));
    for (let i = 0; i < 200; i++) {
      seen.clear();
      p2c.pick(spy);
      expect(seen.size).toBe(2);
    }
    expect(PEAK_EWMA_PENALTY).toBe(2 ** 47);
  });
});

describe('slow start (Envoy formula)', () => {
  const cases: { elapsed: number; window: number; aggression?: number; min?: number; expected: number }[] = [
    { elapsed: 0, window: 10_000, expected: 0.1 }, // max(10%, 1/10000)
    { elapsed: 500, window: 10_000, expected: 0.1 }, // 5% is under the 10% floor
    { elapsed: 2_000, window: 10_000, expected: 0.2 },
    { elapsed: 5_000, window: 10_000, expected: 0.5 },
    { elapsed: 10_000, window: 10_000, expected: 1 },
    { elapsed: 2_500, window: 10_000, aggression: 2, expected: 0.5 }, // (0.25)^(1/2)
    { elapsed: 0, window: 10_000, min: 0, expected: 1 / 10_000 },
    { elapsed: 0, window: 0, expected: 1 }, // off
  ];
  it.each(cases)(
    '$elapsed ms of $window (aggression $aggression, min $min%) → $expected',
    ({ elapsed, window, aggression, min, expected }) => {
      expect(slowStartFactor(elapsed, { windowMs: window, aggression, minWeightPercent: min })).toBeCloseTo(
        expected,
        8,
      );
    },
  );

  // The ramp as traffic: a replica in slow start next to two steady ones, weighted round robin.
  const ramp: { at: number; share: number }[] = [
    { at: 0, share: 0.1 / 2.1 },
    { at: 5_000, share: 0.5 / 2.5 },
    { at: 10_000, share: 1 / 3 },
  ];
  it.each(ramp)('at $at ms the recovering replica gets $share of picks', ({ at, share }) => {
    const rr = new RoundRobin();
    const f = slowStartFactor(at, { windowMs: 10_000 });
    const eps = [ep('a'), ep('b'), ep('new', f)];
    let n = 0;
    for (let i = 0; i < 10_500; i++) if (rr.pick(eps)!.id === 'new') n++;
    expect(n / 10_500).toBeCloseTo(share, 2);
  });
});

/**
 * T-L2 as a discrete-event simulation on a fake clock (the Linkerd measurement): 11 replicas answering in
 * ~167 ms, one stalled at 2 s, 1000 requests/s for 10 s. P2C-EWMA must keep p99 under the 1 s timeout
 * while round robin must not.
 */
function simulate(name: StrategyName): { p99: number; slowShare: number } {
  const random = seeded(42);
  const strategy = createStrategy(name, { random });
  let now = 0;
  const clock = () => now;
  const replicas = Array.from({ length: 11 }, (_, i) => {
    const ewma = new PeakEwma(10_000, clock);
    return {
      id: `r${i}`,
      weight: 1,
      outstanding: 0,
      ewma,
      get cost() {
        return ewma.cost;
      },
      served: 0,
    };
  });
  const pending: { at: number; r: (typeof replicas)[number]; rtt: number }[] = [];
  const latencies: number[] = [];
  for (let t = 0; t < 10_000; t++) {
    now = t;
    for (let i = pending.length - 1; i >= 0; i--) {
      const p = pending[i]!;
      if (p.at <= now) {
        p.r.outstanding--;
        p.r.ewma.observe(p.rtt);
        pending.splice(i, 1);
      }
    }
    const r = strategy.pick(replicas)!;
    const rtt = r.id === 'r10' ? 2_000 : 140 + random() * 55;
    r.outstanding++;
    r.served++;
    pending.push({ at: now + rtt, r, rtt });
    latencies.push(rtt);
  }
  latencies.sort((a, b) => a - b);
  const served = replicas.reduce((s, r) => s + r.served, 0);
  return {
    p99: latencies[Math.ceil(latencies.length * 0.99) - 1]!,
    slowShare: replicas[10]!.served / served,
  };
}

describe('T-L2: one replica of 11 stalled at 2 s', () => {
  it('p2c_ewma keeps p99 under 1 s, round robin does not', () => {
    const p2c = simulate('p2c_ewma');
    const rr = simulate('round_robin');
    const lo = simulate('least_outstanding');
    console.info(
      `T-L2 sim p99: p2c_ewma ${p2c.p99.toFixed(0)} ms (slow share ${(p2c.slowShare * 100).toFixed(2)}%), least_outstanding ${lo.p99.toFixed(0)} ms (${(lo.slowShare * 100).toFixed(2)}%), round_robin ${rr.p99.toFixed(0)} ms (${(rr.slowShare * 100).toFixed(2)}%)`,
    );
    expect(p2c.p99).toBeLessThan(1_000);
    expect(p2c.slowShare).toBeLessThan(0.01);
    expect(rr.p99).toBeGreaterThanOrEqual(1_000);
    expect(rr.slowShare).toBeCloseTo(1 / 11, 2);
  });
});

describe('abuse', () => {
  it('rejects an unknown strategy name', () => {
    expect(() => createStrategy('random' as StrategyName)).toThrow(/unknown pool strategy random/);
  });
  it('returns undefined for no candidates, whatever the strategy', () => {
    for (const name of ['p2c_ewma', 'least_outstanding', 'round_robin'] as const)
      expect(createStrategy(name).pick([])).toBeUndefined();
  });
});
