import { describe, expect, it } from 'vitest';
import { firstErrorCode, RefusalCounter, refusalReason } from './refusals.ts';

describe('refusalReason', () => {
  it.each([
    [401, undefined, false, 'unauthenticated'],
    [408, undefined, false, 'request_timeout'],
    [413, undefined, false, 'body_size'],
    [431, undefined, false, 'header_size'],
    [429, 'RATE_LIMITED', false, 'rate_limit'],
    [429, 'SUBSCRIPTION_LIMIT', false, 'subscription_limit'],
    [429, 'not a code!', false, 'other'],
    [503, 'SUBGRAPH_UNAVAILABLE', false, 'no_replica'],
    [503, 'SUBGRAPH_UNAVAILABLE', true, 'no_replica'],
    [503, 'RATE_LIMITED', false, 'limiter_unavailable'],
    [503, 'OVERLOADED', true, 'shutdown'],
    [503, undefined, false, 'other'],
  ])('%i with code %s (closing: %s) is %s', (status, code, closing, reason) => {
    expect(refusalReason(status, code, closing)).toBe(reason);
  });
});

describe('firstErrorCode', () => {
  it('reads the first error code of a GraphQL body, and never throws', () => {
    expect(firstErrorCode('{"errors":[{"message":"x","extensions":{"code":"RATE_LIMITED"}}]}')).toBe(
      'RATE_LIMITED',
    );
    expect(firstErrorCode('{"data":{}}')).toBeUndefined();
    expect(firstErrorCode('null')).toBeUndefined();
    expect(firstErrorCode('not json')).toBeUndefined();
  });
});

describe('RefusalCounter', () => {
  it('counts by status and reason, and bounds the series', () => {
    const c = new RefusalCounter();
    c.count(503, 'admission');
    c.count(503, 'admission');
    c.count(429, 'rate_limit');
    expect(c.snapshot()).toEqual([
      { status: 503, reason: 'admission', count: 2 },
      { status: 429, reason: 'rate_limit', count: 1 },
    ]);
    for (let i = 0; i < 100; i++) c.count(429, `r${i}`);
    expect(c.snapshot().length).toBeLessThanOrEqual(64);
  });
});
