import { describe, expect, it } from 'vitest';
import { backoffMs, classifyError, errorCode, type FailureKind, mayRetry, RetryBudget } from './retry.ts';

const err = (code: string) => Object.assign(new Error(code), { code });

describe('retry rules', () => {
  const classify: [unknown, FailureKind][] = [
    [err('ECONNREFUSED'), 'connect'],
    [err('UND_ERR_CONNECT_TIMEOUT'), 'connect'],
    [new Error('wrapped', { cause: err('EHOSTUNREACH') }), 'connect'],
    [err('ECONNRESET'), 'reset'],
    [err('UND_ERR_SOCKET'), 'reset'],
    [err('UND_ERR_HEADERS_TIMEOUT'), 'timeout'],
    [new Error('what'), 'other'],
    [undefined, 'other'],
  ];
  it.each(classify)('%s is %s', (error, kind) => expect(classifyError(error)).toBe(kind));

  const onStatus = [500, 502, 503, 504];
  const table: { failure: Parameters<typeof mayRetry>[0]; query: boolean; mutation: boolean }[] = [
    { failure: { kind: 'connect' }, query: true, mutation: true }, // nothing was sent
    { failure: { kind: 'reset' }, query: true, mutation: false }, // T-F1: may have executed
    { failure: { kind: 'timeout' }, query: true, mutation: false },
    { failure: { kind: 'other' }, query: false, mutation: false },
    { failure: { kind: 'aborted' }, query: false, mutation: false },
    { failure: { status: 503 }, query: true, mutation: false },
    { failure: { status: 500 }, query: true, mutation: false },
    { failure: { status: 501 }, query: false, mutation: false },
  ];
  it.each(table)('$failure: query $query, mutation $mutation', ({ failure, query, mutation }) => {
    expect(mayRetry(failure, true, onStatus)).toBe(query);
    expect(mayRetry(failure, false, onStatus)).toBe(mutation);
  });

  it('errorCode walks the cause chain', () => {
    expect(errorCode(new Error('a', { cause: new Error('b', { cause: err('X') }) }))).toBe('X');
  });
});

describe('full-jitter backoff (25 ms base, 250 ms cap)', () => {
  const opts = { baseMs: 25, maxMs: 250 };
  // retry n waits in [0, min(250, (2^n − 1) × 25))
  const cases = [
    { retry: 1, ceiling: 25 },
    { retry: 2, ceiling: 75 },
    { retry: 3, ceiling: 175 },
    { retry: 4, ceiling: 250 },
    { retry: 10, ceiling: 250 },
  ];
  it.each(cases)('retry $retry waits under $ceiling ms', ({ retry, ceiling }) => {
    expect(backoffMs(retry, opts, () => 0)).toBe(0);
    expect(backoffMs(retry, opts, () => 0.5)).toBeCloseTo(ceiling / 2, 10);
    expect(backoffMs(retry, opts, () => 0.999999)).toBeLessThan(ceiling);
    for (let i = 0; i < 100; i++) {
      const w = backoffMs(retry, opts);
      expect(w).toBeGreaterThanOrEqual(0);
      expect(w).toBeLessThan(ceiling);
    }
  });
});

describe("retry budget with Envoy's parameters (20% of requests in flight, min 3)", () => {
  const cases: { active: number; limit: number }[] = [
    { active: 0, limit: 3 },
    { active: 10, limit: 3 },
    { active: 20, limit: 4 },
    { active: 50, limit: 10 },
  ];
  it.each(cases)('$active in flight allow $limit retries', ({ active, limit }) => {
    const b = new RetryBudget({ budgetPercent: 20, minRetryConcurrency: 3 });
    for (let i = 0; i < active; i++) b.requestStarted();
    expect(b.limit).toBe(limit);
    let granted = 0;
    while (b.tryAcquire()) granted++;
    expect(granted).toBe(limit);
    b.release();
    expect(b.tryAcquire()).toBe(true);
  });

  it('defaults to 20% with 10 always allowed, so a burst of resets from one dead replica is retried', () => {
    const b = new RetryBudget();
    for (let i = 0; i < 20; i++) b.requestStarted();
    expect(b.limit).toBe(10);
    for (let i = 0; i < 80; i++) b.requestStarted();
    expect(b.limit).toBe(20);
  });

  it('frees slots as retries end, and never goes negative', () => {
    const b = new RetryBudget({ budgetPercent: 0, minRetryConcurrency: 1 });
    expect(b.tryAcquire()).toBe(true);
    expect(b.tryAcquire()).toBe(false);
    b.release();
    b.release();
    b.requestFinished();
    expect(b.retries).toBe(0);
    expect(b.active).toBe(0);
    expect(b.tryAcquire()).toBe(true);
  });

  it('a zero budget refuses every retry', () => {
    const b = new RetryBudget({ budgetPercent: 0, minRetryConcurrency: 0 });
    b.requestStarted();
    expect(b.tryAcquire()).toBe(false);
  });
});
