import type { FormattedExecutionResult } from 'graphql';
import { describe, expect, it } from 'vitest';
import { guardStream } from './guard-stream.ts';
import type { TransportEndReason } from './types.ts';

/** A source whose next() never settles until pushed, recording return(). */
function idleSource() {
  let returned = 0;
  let push: ((r: IteratorResult<FormattedExecutionResult>) => void) | undefined;
  const source: AsyncIterator<FormattedExecutionResult> = {
    next: () => new Promise((resolve) => (push = resolve)),
    return: async () => {
      returned++;
      return { done: true, value: undefined };
    },
  };
  return {
    source,
    returned: () => returned,
    push: (r: IteratorResult<FormattedExecutionResult>) => push?.(r),
  };
}

describe('guardStream', () => {
  it('resolves a pending next() as done when stopped, and returns the source at once', async () => {
    const s = idleSource();
    const reasons: TransportEndReason[] = [];
    const g = guardStream(s.source, (r) => reasons.push(r));
    const pending = g.next();
    g.stop('slow-consumer');
    await expect(pending).resolves.toEqual({ done: true, value: undefined });
    expect(s.returned()).toBe(1);
    expect(reasons).toEqual(['slow-consumer']);
    expect(g.ended).toBe(true);
  });

  it('reports the end once, whoever ends it', async () => {
    const s = idleSource();
    const reasons: TransportEndReason[] = [];
    const g = guardStream(
      s.source,
      (r) => reasons.push(r),
      () => 'shutdown',
    );
    await g.return(undefined);
    g.stop('client');
    await g.return(undefined);
    expect(reasons).toEqual(['shutdown']);
    expect(s.returned()).toBe(1);
    await expect(g.next()).resolves.toEqual({ done: true, value: undefined });
  });

  it('passes events through and ends with complete when the source is done', async () => {
    async function* source() {
      yield { data: { n: 1 } };
      yield { data: { n: 2 } };
    }
    const reasons: TransportEndReason[] = [];
    const g = guardStream(source(), (r) => reasons.push(r));
    const seen: unknown[] = [];
    for await (const e of g) seen.push(e);
    expect(seen).toEqual([{ data: { n: 1 } }, { data: { n: 2 } }]);
    expect(reasons).toEqual(['complete']);
  });

  it('ends with error when the source throws, rethrowing to the consumer', async () => {
    const reasons: TransportEndReason[] = [];
    const g = guardStream({ next: () => Promise.reject(new Error('boom')) }, (r) => reasons.push(r));
    await expect(g.next()).rejects.toThrow('boom');
    expect(reasons).toEqual(['error']);
  });

  it('survives a source whose return() throws', async () => {
    const g = guardStream(
      {
        next: () => new Promise(() => {}),
        return: () => {
          throw new Error('bad');
        },
      },
      () => {},
    );
    expect(() => g.stop('client')).not.toThrow();
  });
});
