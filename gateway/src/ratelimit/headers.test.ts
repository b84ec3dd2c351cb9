import { describe, expect, it } from 'vitest';
import type { RatePolicy } from './bucket.ts';
import { take } from './bucket.ts';
import { rateLimitHeaders } from './headers.ts';

const tr1: RatePolicy = { capacity: 1000, restoreRate: 50 };

describe('rateLimitHeaders', () => {
  it.each([
    {
      name: 'allowed, bucket emptied (T-R1 first take)',
      policy: tr1,
      decision: { allowed: true, remaining: 0, retryAfterMs: 0, resetAfterMs: 20_000 },
      expected: {
        'RateLimit-Policy': '"cost";q=1000;w=20;tollgate-qu="cost-points"',
        RateLimit: '"cost";r=0;t=20',
      },
    },
    {
      name: 'denied: t equals Retry-After, which rounds 20 ms up to 1 s',
      policy: tr1,
      decision: { allowed: false, remaining: 0, retryAfterMs: 20, resetAfterMs: 20_000 },
      expected: {
        'RateLimit-Policy': '"cost";q=1000;w=20;tollgate-qu="cost-points"',
        RateLimit: '"cost";r=0;t=1',
        'Retry-After': '1',
      },
    },
    {
      name: 'denied for longer than a second, with points left that are too few',
      policy: tr1,
      decision: { allowed: false, remaining: 300, retryAfterMs: 4001, resetAfterMs: 14_000 },
      expected: {
        'RateLimit-Policy': '"cost";q=1000;w=20;tollgate-qu="cost-points"',
        RateLimit: '"cost";r=300;t=5',
        'Retry-After': '5',
      },
    },
    {
      name: 'full bucket: t=0; w rounds up and is at least 1; q is an Integer',
      policy: { capacity: 333.5, restoreRate: 1000 },
      decision: { allowed: true, remaining: 333, retryAfterMs: 0, resetAfterMs: 0 },
      expected: {
        'RateLimit-Policy': '"cost";q=333;w=1;tollgate-qu="cost-points"',
        RateLimit: '"cost";r=333;t=0',
      },
    },
    {
      name: 'cost above capacity: no Retry-After, since waiting never helps',
      policy: { capacity: 10, restoreRate: 3 },
      decision: { allowed: false, remaining: 10, retryAfterMs: Infinity, resetAfterMs: 0 },
      expected: {
        'RateLimit-Policy': '"cost";q=10;w=4;tollgate-qu="cost-points"',
        RateLimit: '"cost";r=10;t=0',
      },
    },
  ])('$name', ({ policy, decision, expected }) => {
    expect(rateLimitHeaders('cost', policy, decision)).toEqual(expected);
  });

  it('works straight from a bucket decision', () => {
    const first = take(undefined, 1000, tr1, 0);
    expect(rateLimitHeaders('per-client', tr1, take(first.newTat, 1, tr1, 0))).toEqual({
      'RateLimit-Policy': '"per-client";q=1000;w=20;tollgate-qu="cost-points"',
      RateLimit: '"per-client";r=0;t=1',
      'Retry-After': '1',
    });
  });

  it('escapes the policy name as a Structured-Field String and refuses what it cannot encode', () => {
    const decision = { allowed: true, remaining: 1, retryAfterMs: 0, resetAfterMs: 1000 };
    expect(rateLimitHeaders('a"b\\c', tr1, decision).RateLimit).toBe('"a\\"b\\\\c";r=1;t=1');
    expect(() => rateLimitHeaders('café', tr1, decision)).toThrow(RangeError);
    expect(() => rateLimitHeaders('a\nb', tr1, decision)).toThrow(RangeError);
  });
});
