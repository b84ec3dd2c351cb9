import type { FormattedExecutionResult } from 'graphql';
import { describe, expect, it, vi } from 'vitest';
import { govern, type StreamEnd } from './govern.ts';
import { OpenCounter } from './limits.ts';

/** An event source the test pushes into; records whether it was closed. */
function source() {
  const queue: FormattedExecutionResult[] = [];
  let waiting: ((r: IteratorResult<FormattedExecutionResult>) => void) | undefined;
  const state = { closed: false };
  const events: AsyncIterableIterator<FormattedExecutionResult> = {
    next: () =>
      new Promise((resolve) => {
        const value = queue.shift();
        if (value) resolve({ done: false, value });
        else if (state.closed) resolve({ done: true, value: undefined });
        else waiting = resolve;
      }),
    async return() {
      state.closed = true;
      waiting?.({ done: true, value: undefined });
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  const push = (value: FormattedExecutionResult) => {
    if (waiting) {
      const w = waiting;
      waiting = undefined;
      w({ done: false, value });
    } else queue.push(value);
  };
  return { events, push, state };
}

const endOf = (error: unknown): StreamEnd => ({
  reason: 'error',
  error: { message: String(error), extensions: { code: 'INTERNAL_SERVER_ERROR' } },
});

describe('govern', () => {
  it('passes events through and ends when the source ends', async () => {
    const s = source();
    const onEnd = vi.fn();
    const g = govern(s.events, { endOf, onEnd });
    s.push({ data: { a: 1 } });
    expect(await g.next()).toEqual({ done: false, value: { data: { a: 1 } } });
    await s.events.return?.();
    expect((await g.next()).done).toBe(true);
    expect(onEnd).toHaveBeenCalledWith({ reason: 'complete' });
  });

  it('ends with UNAUTHENTICATED at the expiry, while an event is awaited, and closes the source', async () => {
    vi.useFakeTimers();
    try {
      const s = source();
      const g = govern(s.events, { endOf, expiresAt: Date.now() + 1000 });
      const pending = g.next();
      await vi.advanceTimersByTimeAsync(1001);
      const last = await pending;
      expect(last.done).toBe(false);
      expect(last.value?.errors?.[0]?.extensions).toEqual({
        code: 'UNAUTHENTICATED',
        reason: 'TOKEN_EXPIRED',
      });
      expect((await g.next()).done).toBe(true);
      expect(s.state.closed).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  it('ends at once when the credentials already expired', async () => {
    const s = source();
    const g = govern(s.events, { endOf, expiresAt: Date.now() - 1 });
    expect((await g.next()).value?.errors?.[0]?.extensions?.reason).toBe('TOKEN_EXPIRED');
    expect((await g.next()).done).toBe(true);
  });

  it('ends when a recheck says the credentials were revoked', async () => {
    vi.useFakeTimers();
    try {
      const s = source();
      let revoked = false;
      const g = govern(s.events, {
        endOf,
        recheckEveryMs: 100,
        recheck: async () =>
          revoked
            ? { reason: 'revoked', error: { message: 'revoked', extensions: { code: 'UNAUTHENTICATED' } } }
            : undefined,
      });
      s.push({ data: { a: 1 } });
      expect((await g.next()).value).toEqual({ data: { a: 1 } });
      const pending = g.next();
      await vi.advanceTimersByTimeAsync(250);
      revoked = true;
      await vi.advanceTimersByTimeAsync(100);
      expect((await pending).value?.errors?.[0]?.message).toBe('revoked');
      expect((await g.next()).done).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  it('delivers the refusal instead of the event the budget cannot pay for', async () => {
    const s = source();
    let budget = 2;
    const g = govern(s.events, {
      endOf,
      charge: async () =>
        budget-- > 0
          ? undefined
          : { reason: 'budget', error: { message: 'out', extensions: { code: 'RATE_LIMITED' } } },
    });
    for (let i = 0; i < 3; i++) s.push({ data: { i } });
    expect((await g.next()).value).toEqual({ data: { i: 0 } });
    expect((await g.next()).value).toEqual({ data: { i: 1 } });
    expect((await g.next()).value?.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    expect((await g.next()).done).toBe(true);
    expect(s.state.closed).toBe(true);
  });

  it('turns a thrown error into the last event', async () => {
    const events: AsyncIterableIterator<FormattedExecutionResult> = {
      next: () => Promise.reject(new Error('upstream lost')),
      [Symbol.asyncIterator]() {
        return this;
      },
    };
    const g = govern(events, { endOf });
    expect((await g.next()).value?.errors?.[0]?.message).toBe('Error: upstream lost');
    expect((await g.next()).done).toBe(true);
  });

  it('return() closes the source and reports the client', async () => {
    const s = source();
    const onEnd = vi.fn();
    const g = govern(s.events, { endOf, onEnd });
    const pending = g.next();
    await g.return?.();
    expect((await pending).done).toBe(true);
    expect(s.state.closed).toBe(true);
    expect(onEnd).toHaveBeenCalledWith({ reason: 'client' });
  });
});

describe('OpenCounter', () => {
  it('refuses past the cap per key and counts releases', () => {
    const c = new OpenCounter(2);
    expect([c.acquire('a'), c.acquire('a'), c.acquire('a'), c.acquire('b')]).toEqual([
      true,
      true,
      false,
      true,
    ]);
    expect(c.total).toBe(3);
    c.release('a');
    expect(c.acquire('a')).toBe(true);
    expect(c.count('a')).toBe(2);
  });
});
