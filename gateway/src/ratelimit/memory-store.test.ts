import { describe, expect, it } from 'vitest';
import { createMemoryStore } from './memory-store.ts';
import { describeStoreBehaviour } from './store-behaviour.ts';

describeStoreBehaviour('memory store', (options) => createMemoryStore(options), { source: 'memory' });

describe('memory store: bounded memory', () => {
  const policy = { capacity: 10, restoreRate: 1 }; // a key is full again (forgettable) 10 s after its take

  it('sweeps refilled buckets once per sweep interval', async () => {
    let now = 0;
    const store = createMemoryStore({ now: () => now, sweepIntervalMs: 1000 });
    for (let i = 0; i < 1000; i++) await store.take(`k${i}`, 1, policy);
    expect(store.size).toBe(1000);
    now = 999;
    await store.take('late', 10, policy);
    expect(store.size).toBe(1001); // nothing refilled yet, and no sweep before the interval
    now = 1001;
    await store.take('trigger', 1, policy);
    expect(store.size).toBe(2); // 'late' (full at 10 999) and 'trigger' survive
    now = 20_000;
    expect((await store.take('late', 10, policy)).allowed).toBe(true);
  });

  it('does not store a denial or a zero-cost take', async () => {
    const store = createMemoryStore({ now: () => 0 });
    await store.take('a', 11, policy);
    await store.take('b', 0, policy);
    expect(store.size).toBe(0);
  });

  it('forgets the least recently used key past maxKeys', async () => {
    const store = createMemoryStore({ now: () => 0, maxKeys: 3 });
    for (const key of ['a', 'b', 'c']) await store.take(key, 10, policy);
    await store.take('a', 0, policy); // a zero-cost take writes nothing, so it does not refresh recency
    await store.refund('b', 1, policy);
    await store.take('c', 0, policy);
    await store.take('d', 10, policy);
    expect(store.size).toBe(3);
    // 'a' was written first and never rewritten, so it went; its bucket reads as full again.
    expect((await store.take('a', 10, policy)).allowed).toBe(true);
    expect((await store.take('d', 1, policy)).allowed).toBe(false);
  });

  it('rejects bad options', () => {
    expect(() => createMemoryStore({ maxKeys: 0 })).toThrow(RangeError);
    expect(() => createMemoryStore({ sweepIntervalMs: -1 })).toThrow(RangeError);
  });
});
