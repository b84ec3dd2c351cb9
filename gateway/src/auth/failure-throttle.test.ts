import { describe, expect, it } from 'vitest';
import { createFailureLog } from './failure-log.ts';
import { createFailureThrottle } from './failure-throttle.ts';

function clock() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('failure throttle', () => {
  it('refuses an address after `capacity` failures, until a token is back', () => {
    const c = clock();
    const th = createFailureThrottle({ capacity: 3, refillPerSecond: 1, maxAddresses: 10, now: c.now });
    for (let i = 0; i < 3; i++) {
      expect(th.retryAfter('a')).toBe(0);
      th.failed('a');
    }
    expect(th.retryAfter('a')).toBe(1);
    expect(th.retryAfter('b')).toBe(0); // another address is untouched
    c.advance(1000);
    expect(th.retryAfter('a')).toBe(0);
  });

  it('checking costs nothing: a caller that never fails is never refused', () => {
    const th = createFailureThrottle({ capacity: 1, refillPerSecond: 1, maxAddresses: 10, now: () => 0 });
    for (let i = 0; i < 1000; i++) expect(th.retryAfter('a')).toBe(0);
    expect(th.size).toBe(0);
  });

  it('failures in flight past the bucket go into debt, bounded by capacity', () => {
    const c = clock();
    const th = createFailureThrottle({ capacity: 2, refillPerSecond: 1, maxAddresses: 10, now: c.now });
    for (let i = 0; i < 50; i++) th.failed('a');
    // tokens at -2: three seconds until one token
    expect(th.retryAfter('a')).toBe(3);
    c.advance(3000);
    expect(th.retryAfter('a')).toBe(0);
  });

  it('Retry-After follows the refill rate', () => {
    const th = createFailureThrottle({ capacity: 1, refillPerSecond: 0.1, maxAddresses: 10, now: () => 0 });
    th.failed('a');
    expect(th.retryAfter('a')).toBe(10);
  });

  it('remembers at most maxAddresses, forgetting the least recently failed, and drops refilled ones', () => {
    const c = clock();
    const th = createFailureThrottle({ capacity: 1, refillPerSecond: 1, maxAddresses: 3, now: c.now });
    for (const a of ['a', 'b', 'c']) th.failed(a);
    th.failed('a'); // a is now the most recent
    th.failed('d'); // b is forgotten
    expect(th.size).toBe(3);
    expect(th.retryAfter('b')).toBe(0);
    expect(th.retryAfter('a')).toBeGreaterThan(0);
    for (let i = 0; i < 10_000; i++) th.failed(`x${i}`);
    expect(th.size).toBe(3);
    c.advance(10_000);
    for (const a of ['x9997', 'x9998', 'x9999']) expect(th.retryAfter(a)).toBe(0);
    expect(th.size).toBe(0);
  });

  it('capacity 0 turns it off', () => {
    const th = createFailureThrottle({ capacity: 0, refillPerSecond: 1, maxAddresses: 3 });
    for (let i = 0; i < 100; i++) th.failed('a');
    expect(th.retryAfter('a')).toBe(0);
    expect(th.size).toBe(0);
  });
});

describe('failure log', () => {
  it('writes the first lines of a window, then one summary line with the count', () => {
    const c = clock();
    const lines: [string, Record<string, unknown>][] = [];
    const log = createFailureLog((m, f) => lines.push([m, f]), {
      linesPerWindow: 2,
      windowMs: 1000,
      now: c.now,
    });
    for (let i = 0; i < 100; i++) log.refused({ reason: i % 2 ? 'unknown_api_key' : 'bad_signature' });
    expect(lines).toHaveLength(2);
    c.advance(1000);
    log.refused({ reason: 'expired' }); // a new window: the last one's summary, then this line
    expect(lines).toHaveLength(4);
    expect(lines[2]).toEqual([
      'authentication refusals suppressed',
      { suppressed: 98, byReason: { bad_signature: 49, unknown_api_key: 49 }, windowMs: 1000 },
    ]);
    expect(lines[3]).toEqual(['authentication refused', { reason: 'expired' }]);
    log.flush();
    expect(lines).toHaveLength(4); // nothing suppressed since
  });

  it('writes the summary when the window closes, without another refusal', async () => {
    const lines: string[] = [];
    const log = createFailureLog((m) => lines.push(m), { linesPerWindow: 1, windowMs: 20 });
    log.refused({ reason: 'a' });
    log.refused({ reason: 'a' });
    expect(lines).toEqual(['authentication refused']);
    await new Promise((r) => setTimeout(r, 60));
    expect(lines).toEqual(['authentication refused', 'authentication refusals suppressed']);
  });
});
