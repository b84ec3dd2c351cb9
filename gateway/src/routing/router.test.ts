import { describe, expect, it } from 'vitest';
import { createRouter, type RouteInput, type RoutingRule, stickyBucket, unknownSubgraphs } from './router.ts';

const input = (over: Partial<RouteInput> = {}): RouteInput => ({
  headers: {},
  claims: undefined,
  stickyKey: 'user-1',
  ...over,
});

const CANARY = { track: 'canary' };

describe('a rule condition', () => {
  const cases: { name: string; rule: RoutingRule; request: Partial<RouteInput>; matches: boolean }[] = [
    {
      name: 'header with value',
      rule: { header: { name: 'X-Canary', value: '1' }, select: CANARY },
      request: { headers: { 'x-canary': '1' } },
      matches: true,
    },
    {
      name: 'header with another value',
      rule: { header: { name: 'x-canary', value: '1' }, select: CANARY },
      request: { headers: { 'x-canary': '0' } },
      matches: false,
    },
    {
      name: 'header repeated (joined by node:http)',
      rule: { header: { name: 'x-canary', value: '1' }, select: CANARY },
      request: { headers: { 'x-canary': '0, 1' } },
      matches: true,
    },
    {
      name: 'header present, no value asked',
      rule: { header: { name: 'x-canary' }, select: CANARY },
      request: { headers: { 'x-canary': 'anything' } },
      matches: true,
    },
    {
      name: 'header absent',
      rule: { header: { name: 'x-canary' }, select: CANARY },
      request: {},
      matches: false,
    },
    {
      name: 'claim equal',
      rule: { claim: { name: 'tenant', value: 'acme' }, select: { tenant: 'acme' } },
      request: { claims: { tenant: 'acme' } },
      matches: true,
    },
    {
      name: 'claim different',
      rule: { claim: { name: 'tenant', value: 'acme' }, select: { tenant: 'acme' } },
      request: { claims: { tenant: 'globex' } },
      matches: false,
    },
    {
      name: 'claim array holding the value',
      rule: { claim: { name: 'groups', value: 'beta' }, activate: ['beta'] },
      request: { claims: { groups: ['staff', 'beta'] } },
      matches: true,
    },
    {
      name: 'numeric claim against a string value',
      rule: { claim: { name: 'tier', value: '2' }, activate: ['x'] },
      request: { claims: { tier: 2 } },
      matches: true,
    },
    {
      name: 'claim rule, anonymous caller',
      rule: { claim: { name: 'tenant', value: 'acme' }, select: { tenant: 'acme' } },
      request: { claims: undefined },
      matches: false,
    },
    {
      name: 'weight 100',
      rule: { weight: 100, select: CANARY },
      request: {},
      matches: true,
    },
    {
      name: 'weight 0',
      rule: { weight: 0, select: CANARY },
      request: {},
      matches: false,
    },
    {
      name: 'header and claim, only the header holds (conditions are ANDed)',
      rule: {
        header: { name: 'x-canary', value: '1' },
        claim: { name: 'tenant', value: 'acme' },
        select: CANARY,
      },
      request: { headers: { 'x-canary': '1' }, claims: { tenant: 'globex' } },
      matches: false,
    },
  ];
  it.each(cases)('$name → $matches', ({ rule, request, matches }) => {
    const router = createRouter({ rules: [rule] });
    const decision = router.decide(input(request));
    const selected = decision.subsetFor('products')?.rule !== undefined;
    const activated = decision.activate.size > 0;
    expect(selected || activated).toBe(matches);
  });

  it('refuses a rule without a condition, naming it', () => {
    expect(() => createRouter({ rules: [{ name: 'oops', select: CANARY }] })).toThrow(/routing rule oops/);
  });
});

describe('weight rules', () => {
  const keys = Array.from({ length: 20_000 }, (_, i) => `user-${i}`);

  it.each([1, 5, 10, 50])('send about %d percent of callers to the subset', (weight) => {
    const router = createRouter({ rules: [{ name: 'canary', weight, select: CANARY }] });
    const inside = keys.filter((k) => router.decide(input({ stickyKey: k })).subsetFor('a')?.rule).length;
    expect(Math.abs((inside / keys.length) * 100 - weight)).toBeLessThan(1);
  });

  it('keep a caller on one side, and raising the weight only adds callers', () => {
    const at = (weight: number) => createRouter({ rules: [{ name: 'canary', weight, select: CANARY }] });
    const five = at(5);
    const ten = at(10);
    for (const k of keys.slice(0, 2_000)) {
      const first = five.decide(input({ stickyKey: k })).subsetFor('a')?.rule;
      expect(five.decide(input({ stickyKey: k })).subsetFor('a')?.rule).toBe(first);
      if (first) expect(ten.decide(input({ stickyKey: k })).subsetFor('a')?.rule).toBe('canary');
    }
  });

  it('split callers independently per rule name', () => {
    expect(stickyBucket('a', 'user-1')).not.toBe(stickyBucket('b', 'user-1'));
    const agree = keys
      .slice(0, 2_000)
      .filter((k) => stickyBucket('a', k) < 5_000 === stickyBucket('b', k) < 5_000).length;
    expect(agree / 2_000).toBeGreaterThan(0.4);
    expect(agree / 2_000).toBeLessThan(0.6);
  });
});

describe('the decision', () => {
  const router = createRouter({
    fallback: 'fail',
    rules: [
      {
        name: 'pin-acme',
        claim: { name: 'tenant', value: 'acme' },
        subgraphs: ['Products'],
        select: { tenant: 'acme' },
      },
      { name: 'header', header: { name: 'x-canary', value: '1' }, select: CANARY, activate: ['beta'] },
      { name: 'ten', weight: 100, subgraphs: ['reviews'], select: { track: 'next' } },
      { name: 'labels-only', header: { name: 'x-beta' }, activate: ['beta', 'gamma'] },
    ],
  });

  it('takes, per subgraph, the first matching rule with a select for it', () => {
    const d = router.decide(input({ headers: { 'x-canary': '1' }, claims: { tenant: 'acme' } }));
    expect(d.subsetFor('products')).toMatchObject({
      rule: 'pin-acme',
      select: { tenant: 'acme' },
      fallback: 'fail',
    });
    expect(d.subsetFor('reviews')).toMatchObject({ rule: 'header', select: CANARY });
    expect(d.subsetFor('inventory')).toMatchObject({ rule: 'header', select: CANARY });
  });

  it('names every selector that applies as reserved, so the default set leaves them out', () => {
    const d = router.decide(input());
    expect(d.subsetFor('products')).toEqual({
      rule: undefined,
      select: undefined,
      reserved: [{ tenant: 'acme' }, CANARY],
      fallback: 'fail',
    });
    expect(d.subsetFor('reviews')?.reserved).toEqual([CANARY, { track: 'next' }]);
    // weight 100 on reviews: every caller
    expect(d.subsetFor('reviews')?.rule).toBe('ten');
  });

  it('turns on the activate labels of every matching rule, selecting or not', () => {
    expect(
      [...router.decide(input({ headers: { 'x-canary': '1', 'x-beta': 'y' } })).activate].sort(),
    ).toEqual(['beta', 'gamma']);
    expect(router.decide(input()).activate.size).toBe(0);
  });

  it('leaves a subgraph no select rule names to the whole pool', () => {
    const only = createRouter({ rules: [{ header: { name: 'x' }, subgraphs: ['a'], select: CANARY }] });
    expect(only.decide(input({ headers: { x: '1' } })).subsetFor('b')).toBeUndefined();
    expect(createRouter({ rules: [] }).active).toBe(false);
  });
});

describe('unknownSubgraphs', () => {
  it('names the rule entries that match no subgraph, case-insensitively', () => {
    const rules = [
      { weight: 5, subgraphs: ['Products', 'prodcuts'], select: CANARY },
      { weight: 5, select: CANARY },
    ];
    expect(unknownSubgraphs({ rules }, ['products', 'reviews'])).toEqual([
      'routing.rules.0.subgraphs: no subgraph named prodcuts in the supergraph',
    ]);
  });
});
