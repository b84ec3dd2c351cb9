import { describe, expect, it } from 'vitest';
import { createMemoryDocumentStore } from './memory-store.ts';

describe('createMemoryDocumentStore', () => {
  it('keeps texts by key and forgets deleted ones', async () => {
    const store = createMemoryDocumentStore();
    await store.set('k', '{ a }');
    expect(await store.get('k')).toBe('{ a }');
    expect(await store.delete('k')).toBe(true);
    expect(await store.get('k')).toBeUndefined();
    expect(store.stats()).toEqual({ entries: 0, bytes: 0 });
  });

  it('stays within its byte bound, evicting the least recently used first', async () => {
    // each entry: (1-char key + 9-char text) × 2 = 20 bytes; 3 fit in 60
    const store = createMemoryDocumentStore({ maxBytes: 60 });
    await store.set('a', 'aaaaaaaaa');
    await store.set('b', 'bbbbbbbbb');
    await store.set('c', 'ccccccccc');
    await store.get('a'); // a is now the most recently used
    await store.set('d', 'ddddddddd');
    expect(await store.get('b')).toBeUndefined();
    expect(await store.get('a')).toBe('aaaaaaaaa');
    expect(store.stats()).toEqual({ entries: 3, bytes: 60 });
  });

  it('never keeps a text larger than the bound', async () => {
    const store = createMemoryDocumentStore({ maxBytes: 100 });
    await store.set('big', 'x'.repeat(100));
    expect(await store.get('big')).toBeUndefined();
    expect(store.stats().bytes).toBe(0);
  });

  it('replacing a key does not count it twice', async () => {
    const store = createMemoryDocumentStore({ maxBytes: 1_000 });
    for (let i = 0; i < 10; i++) await store.set('k', 'x'.repeat(10));
    expect(store.stats()).toEqual({ entries: 1, bytes: 22 });
  });

  it('honours the TTL given on set', async () => {
    let now = 1_000;
    const store = createMemoryDocumentStore({ now: () => now });
    await store.set('short', '{ a }', { ttl: 10 });
    await store.set('forever', '{ b }', { ttl: null });
    now += 9_999;
    expect(await store.get('short')).toBe('{ a }');
    now += 1;
    expect(await store.get('short')).toBeUndefined();
    now += 1e12;
    expect(await store.get('forever')).toBe('{ b }');
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])('refuses maxBytes %s', (maxBytes) => {
    expect(() => createMemoryDocumentStore({ maxBytes })).toThrow(RangeError);
  });

  it('holds up under 100 000 distinct keys within its bound', async () => {
    const store = createMemoryDocumentStore({ maxBytes: 100_000 });
    for (let i = 0; i < 100_000; i++) await store.set(`key-${i}`, `{ field${i} }`);
    expect(store.stats().bytes).toBeLessThanOrEqual(100_000);
    expect(await store.get('key-99999')).toBe('{ field99999 }');
    expect(await store.get('key-0')).toBeUndefined();
  });
});
