import { describe, expect, it, vi } from 'vitest';
import { backoffMs, upstreamKey, webSocketUrl } from './key.ts';
import { EventQueue } from './queue.ts';

describe('EventQueue', () => {
  it('hands events to a waiting subscriber and buffers up to max', async () => {
    const q = new EventQueue<number>(2);
    const waiting = q.next();
    expect(q.push(1)).toBe(true);
    expect(await waiting).toEqual({ done: false, value: 1 });
    expect([q.push(2), q.push(3)]).toEqual([true, true]);
    expect(await q.next()).toEqual({ done: false, value: 2 });
    expect(await q.next()).toEqual({ done: false, value: 3 });
  });

  it('ends a subscriber that falls more than max behind with SLOW_CONSUMER, dropping what waited', async () => {
    const q = new EventQueue<number>(2);
    q.push(1);
    q.push(2);
    expect(q.push(3)).toBe(false);
    expect(q.ended).toBe(true);
    await expect(q.next()).rejects.toMatchObject({ code: 'SLOW_CONSUMER' });
    expect(await q.next()).toEqual({ done: true, value: undefined });
  });

  it('delivers what waited before the end, then done; an error ends a waiting next', async () => {
    const q = new EventQueue<number>(5);
    q.push(1);
    q.end();
    expect(await q.next()).toEqual({ done: false, value: 1 });
    expect((await q.next()).done).toBe(true);
    const r = new EventQueue<number>(5);
    const waiting = r.next();
    r.end(new Error('gone'));
    await expect(waiting).rejects.toThrow('gone');
  });

  it('return() tells the upstream once and ends', async () => {
    const leave = vi.fn();
    const q = new EventQueue<number>(5, { leave });
    const waiting = q.next();
    await q.return();
    await q.return();
    expect(leave).toHaveBeenCalledTimes(1);
    expect(leave).toHaveBeenCalledWith(q);
    expect((await waiting).done).toBe(true);
    expect(q.push(1)).toBe(false);
  });
});

describe('upstream keys and URLs', () => {
  it('keys by subgraph and exactly what is sent', () => {
    const a = upstreamKey('reviews', { query: 'subscription{a}', variables: { x: 1 } });
    expect(upstreamKey('reviews', { query: 'subscription{a}', variables: { x: 1 } })).toBe(a);
    expect(upstreamKey('reviews', { query: 'subscription{a}', variables: { x: 2 } })).not.toBe(a);
    expect(upstreamKey('other', { query: 'subscription{a}', variables: { x: 1 } })).not.toBe(a);
    expect(
      upstreamKey('reviews', { query: 'subscription{a}', variables: { x: 1 }, operationName: 'A' }),
    ).not.toBe(a);
  });

  it('maps http(s) replica URLs to ws(s) and backs off within 500 ms', () => {
    expect(webSocketUrl('http://10.0.0.1:4001/graphql')).toBe('ws://10.0.0.1:4001/graphql');
    expect(webSocketUrl('https://r.example/graphql')).toBe('wss://r.example/graphql');
    expect([0, 1, 2, 3, 4, 10].map(backoffMs)).toEqual([0, 50, 100, 200, 400, 500]);
  });
});
