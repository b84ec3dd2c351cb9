import { describe, expect, it, vi } from 'vitest';
import { Hub } from './hub.ts';

const next = <T>(it: AsyncIterator<T>) => it.next().then((r) => r.value);

describe('Hub', () => {
  it('delivers a topic to its subscribers only, through their filters', async () => {
    const hub = new Hub({ maxQueued: 10 });
    const all = hub.subscribe<{ upc: string }>('reviewAdded');
    const one = hub.subscribe<{ upc: string }>('reviewAdded', { filter: (p) => p.upc === '000002' });
    const other = hub.subscribe('other');
    hub.deliver('reviewAdded', { upc: '000001' });
    hub.deliver('reviewAdded', { upc: '000002' });
    expect(await next(all)).toEqual({ upc: '000001' });
    expect(await next(all)).toEqual({ upc: '000002' });
    expect(await next(one)).toEqual({ upc: '000002' });
    hub.close();
    expect(await other.next()).toEqual({ value: undefined, done: true });
  });

  it('signals the first subscriber and the last one leaving, and counts them', async () => {
    const onActive = vi.fn();
    const hub = new Hub({ maxQueued: 10, onActive });
    const a = hub.subscribe('t');
    const b = hub.subscribe('u');
    expect(hub.size).toBe(2);
    expect(onActive.mock.calls).toEqual([[true]]);
    await a.return?.();
    expect(hub.has('t')).toBe(false);
    await b.return?.();
    expect(hub.size).toBe(0);
    expect(onActive.mock.calls).toEqual([[true], [false]]);
    hub.subscribe('t');
    expect(onActive.mock.calls).toEqual([[true], [false], [true]]);
  });

  it('skips a payload whose filter throws and reports the error', async () => {
    const onError = vi.fn();
    const hub = new Hub({ maxQueued: 10, onError });
    const it = hub.subscribe<{ n: number }>('t', {
      filter: (p) => {
        if (p.n === 1) throw new Error('boom');
        return true;
      },
    });
    hub.deliver('t', { n: 1 });
    hub.deliver('t', { n: 2 });
    expect(await next(it)).toEqual({ n: 2 });
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ message: 'boom' }));
  });

  it('after close, new subscriptions end at once', async () => {
    const hub = new Hub({ maxQueued: 10 });
    hub.close();
    expect(await hub.subscribe('t').next()).toEqual({ value: undefined, done: true });
    expect(hub.size).toBe(0);
  });
});
