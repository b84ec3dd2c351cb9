import { describe, expect, it, vi } from 'vitest';
import { QueueIterator } from './queue-iterator.ts';

const take = async <T>(it: AsyncIterator<T>, n: number): Promise<IteratorResult<T>[]> => {
  const out: IteratorResult<T>[] = [];
  for (let i = 0; i < n; i++) out.push(await it.next());
  return out;
};

describe('QueueIterator', () => {
  it('hands values to next() in order, whether pushed before or after it waits', async () => {
    const it = new QueueIterator<number>(10);
    it.push(1);
    const waiting = take(it, 2);
    it.push(2);
    expect((await waiting).map((r) => r.value)).toEqual([1, 2]);
  });

  it.each([
    // max, pushed, what is read back, dropped
    [1, [1, 2, 3], [3], 2],
    [2, [1, 2, 3, 4], [3, 4], 2],
    [3, [1, 2], [1, 2], 0],
  ])('with room for %i keeps the newest of %j', async (max, pushed, kept, dropped) => {
    const it = new QueueIterator<number>(max);
    for (const v of pushed) it.push(v);
    it.end();
    const read: number[] = [];
    for await (const v of it) read.push(v);
    expect(read).toEqual(kept);
    expect(it.dropped).toBe(dropped);
  });

  it('return() ends at once: queued values are discarded, waiters resolve done, onEnd runs once', async () => {
    const onEnd = vi.fn();
    const it = new QueueIterator<number>(10, onEnd);
    const waiter = it.next();
    await it.return();
    await it.return();
    expect(await waiter).toEqual({ value: undefined, done: true });
    it.push(1);
    expect(await it.next()).toEqual({ value: undefined, done: true });
    expect(onEnd).toHaveBeenCalledTimes(1);
  });

  it('end() lets the queued values be read first, then runs onEnd', async () => {
    const onEnd = vi.fn();
    const it = new QueueIterator<string>(10, onEnd);
    it.push('a');
    it.end();
    expect(onEnd).not.toHaveBeenCalled();
    expect(await it.next()).toEqual({ value: 'a', done: false });
    expect(onEnd).toHaveBeenCalledTimes(1);
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });

  it('a for-await loop that breaks calls return()', async () => {
    const onEnd = vi.fn();
    const it = new QueueIterator<number>(10, onEnd);
    it.push(1);
    it.push(2);
    for await (const _ of it) break;
    expect(onEnd).toHaveBeenCalledTimes(1);
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses maxQueued %s', (max) => {
    expect(() => new QueueIterator(max)).toThrow(RangeError);
  });
});
