import { describe, expect, it } from 'vitest';
import { CircuitBreaker, type CircuitBreakerOptions } from './circuit-breaker.ts';

function breaker(options: CircuitBreakerOptions = {}) {
  let t = 0;
  const b = new CircuitBreaker(
    {
      failureRatePercent: 50,
      minRequests: 20,
      windowMs: 10_000,
      openMs: 5_000,
      halfOpenRequests: 3,
      ...options,
    },
    () => t,
  );
  const run = (outcomes: boolean[]) => {
    for (const ok of outcomes) {
      const permit = b.tryAcquire();
      if (!permit) throw new Error('refused');
      b.record(permit, ok);
    }
  };
  return { b, run, advance: (ms: number) => (t += ms) };
}
const times = (n: number, ok: boolean) => Array.from({ length: n }, () => ok);

describe('CircuitBreaker', () => {
  it('judges no rate below minRequests, and opens at the fetch that makes the window fail enough', () => {
    const { b, run } = breaker();
    run(times(19, false));
    expect(b.state).toBe('closed');
    run([false]);
    expect(b.state).toBe('open');
    expect(b.tryAcquire()).toBeUndefined();
    expect(b.snapshot()).toMatchObject({ state: 'open', opened: 1, rejected: 1, openForMs: 5_000 });
  });

  it('opens at the failure rate, not below it', () => {
    const below = breaker();
    below.run([...times(11, true), ...times(9, false)]);
    expect(below.b.state).toBe('closed');
    const at = breaker();
    at.run([...times(10, true), ...times(10, false)]);
    expect(at.b.state).toBe('open');
  });

  it('forgets outcomes older than the window', () => {
    const { b, run, advance } = breaker();
    run(times(15, false));
    advance(10_000);
    run([...times(5, false), ...times(10, true)]);
    expect(b.snapshot()).toMatchObject({ state: 'closed', requests: 15, failures: 5 });
    // what ended half a window ago still counts: 5 more failures make 10 of 20
    advance(5_000);
    run(times(4, false));
    expect(b.state).toBe('closed');
    run([false]);
    expect(b.state).toBe('open');
  });

  it('lets halfOpenRequests trials through after openMs, and closes when all of them succeed', () => {
    const { b, run, advance } = breaker();
    run(times(20, false));
    advance(4_999);
    expect(b.tryAcquire()).toBeUndefined();
    advance(1);
    expect(b.state).toBe('half_open');
    const trials = [b.tryAcquire(), b.tryAcquire(), b.tryAcquire()];
    expect(trials.every(Boolean)).toBe(true);
    expect(b.tryAcquire()).toBeUndefined(); // a fourth waits for the verdict
    for (const p of trials) b.record(p!, true);
    expect(b.state).toBe('closed');
    // a fresh window: one failure does not reopen it
    run([false]);
    expect(b.snapshot()).toMatchObject({ state: 'closed', requests: 1, failures: 1 });
  });

  it('reopens for another openMs when a trial fails', () => {
    const { b, advance } = breaker();
    breakerOpen(b);
    advance(5_000);
    const first = b.tryAcquire()!;
    const second = b.tryAcquire()!;
    b.record(first, true);
    b.record(second, false);
    expect(b.state).toBe('open');
    expect(b.snapshot()).toMatchObject({ opened: 2, openForMs: 5_000 });
  });

  it('ignores the outcome of a fetch let through before the circuit changed state', () => {
    const { b, advance } = breaker();
    const slow = b.tryAcquire()!; // started while closed, ends after the circuit opened and half-opened
    breakerOpen(b);
    advance(5_000);
    const trials = [b.tryAcquire()!, b.tryAcquire()!, b.tryAcquire()!];
    b.record(slow, false);
    expect(b.state).toBe('half_open');
    for (const p of trials) b.record(p, true);
    expect(b.state).toBe('closed');
  });
});

function breakerOpen(b: CircuitBreaker) {
  for (let i = 0; i < 20; i++) b.record(b.tryAcquire()!, false);
  expect(b.state).toBe('open');
}
