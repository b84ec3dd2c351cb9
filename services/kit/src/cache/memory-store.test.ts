import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMemoryStore } from './memory-store.ts';
import { describeStoreContract } from './store-contract.ts';

describeStoreContract('memory store', () => createMemoryStore({ maxEntries: 100 }));

describe('memory store', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('drops the least recently used value beyond maxEntries', async () => {
    const store = createMemoryStore({ maxEntries: 2 });
    const fill = (k: string) => store.fill([{ key: k, value: k, expected: null, ttlSec: 60 }]);
    await fill('a');
    await fill('b');
    await store.get(['a']);
    await fill('c');
    expect(await store.get(['a', 'b', 'c'])).toEqual(['a', null, 'c']);
  });

  it('never evicts a tombstone to make room, so a stale fill cannot slip in under pressure', async () => {
    const store = createMemoryStore({ maxEntries: 1 });
    await store.tombstone(['k'], 't-1', 60);
    for (const k of ['a', 'b', 'c']) await store.fill([{ key: k, value: k, expected: null, ttlSec: 60 }]);
    await store.fill([{ key: 'k', value: 'stale', expected: null, ttlSec: 60 }]);
    expect(await store.get(['k'])).toEqual(['t-1']);
  });

  it('forgets tombstones after their ttl', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const store = createMemoryStore({ maxEntries: 10 });
    await store.tombstone(['k'], 't-1', 5);
    vi.setSystemTime(1_000_000 + 4_999);
    expect(await store.get(['k'])).toEqual(['t-1']);
    vi.setSystemTime(1_000_000 + 5_000);
    expect(await store.get(['k'])).toEqual([null]);
  });
});
