import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { type Cache, createCache, createCacheWithStore } from './create-cache.ts';
import { createMemoryStore } from './memory-store.ts';
import type { CacheStore } from './store.ts';

const NS = 'svc:Thing:abc123';

/** A source whose reads finish when the test says so, recording which keys each read asked for. */
function source(data: Record<string, unknown>) {
  const reads: string[][] = [];
  const held: (() => void)[] = [];
  let hold = false;
  return {
    reads,
    holdReads(on: boolean) {
      hold = on;
    },
    /** Answers every held read, or only the one at `index` (in the order they were asked). */
    release(index?: number) {
      if (index === undefined) for (const go of held.splice(0)) go?.();
      else held[index]?.();
    },
    set(key: string, value: unknown) {
      data[key] = value;
    },
    read(keys: readonly string[]) {
      return (positions: readonly number[]) => {
        const asked = positions.map((i) => keys[i]!);
        reads.push(asked);
        // The snapshot is taken now, as a SQL statement's would be; only the answer waits.
        const snapshot = asked.map((k) => data[k] ?? null);
        return hold
          ? new Promise<unknown[]>((resolve) => held.push(() => resolve(snapshot)))
          : Promise.resolve(snapshot);
      };
    },
  };
}

const load = (cache: Cache, src: ReturnType<typeof source>, keys: string[], ttlSec = 60) =>
  cache.readThrough({ namespace: NS, keys, ttlSec, fetch: src.read(keys) });

// Lets queued fills and joins settle.
const settle = () => new Promise((resolve) => setImmediate(resolve));

type Backend = [name: string, make: (keyPrefix: string) => Cache];
const redisUrl = process.env.REDIS_URL;
const backends: Backend[] = [['memory', (keyPrefix) => createCache({ keyPrefix })]];
if (redisUrl) backends.push(['redis', (keyPrefix) => createCache({ keyPrefix, redisUrl, timeoutMs: 1000 })]);

describe.each(backends)('read-through cache (%s)', (_, make) => {
  const prefix = `tollgate-test-${randomBytes(6).toString('hex')}`;
  const caches: Cache[] = [];
  const open = () => {
    const cache = make(prefix);
    caches.push(cache);
    return cache;
  };
  afterAll(async () => {
    await caches[0]?.clear();
    await Promise.all(caches.map((c) => c.close()));
  });
  let n = 0;
  // Keys unique per test, since the Redis backend shares one prefix across them.
  const keysOf = (...ks: string[]) => {
    n++;
    return ks.map((k) => `${n}-${k}`);
  };

  it('reads misses once, then answers from the cache, nulls and empty lists included', async () => {
    const cache = open();
    const [a, b, c] = keysOf('a', 'b', 'c');
    const src = source({ [a!]: { id: 1 }, [b!]: [] });
    const first = await load(cache, src, [a!, b!, c!]);
    expect(first).toMatchObject({ values: [{ id: 1 }, [], null], hits: 0, fetched: 3, bypassed: false });
    await settle();
    const second = await load(cache, src, [c!, a!, b!]);
    expect(second).toMatchObject({ values: [null, { id: 1 }, []], hits: 3, fetched: 0 });
    expect(src.reads).toEqual([[a, b, c]]);
  });

  it('single-flight: concurrent misses for the same keys cause one read', async () => {
    const cache = open();
    const [a, b, c] = keysOf('a', 'b', 'c');
    const src = source({ [a!]: 'A', [b!]: 'B', [c!]: 'C' });
    src.holdReads(true);
    const loads = Array.from({ length: 100 }, () => load(cache, src, [a!, b!]));
    // One that overlaps: joins a and b, reads only c.
    const overlap = load(cache, src, [b!, c!]);
    await vi.waitFor(() => expect(src.reads.length).toBe(2));
    src.release();
    const results = await Promise.all(loads);
    expect(results.every((r) => r.values.join() === 'A,B')).toBe(true);
    expect(results.reduce((sum, r) => sum + r.joined, 0)).toBe(198);
    expect(await overlap).toMatchObject({ values: ['B', 'C'], joined: 1, fetched: 1 });
    expect(src.reads).toEqual([[a, b], [c]]);
  });

  it('a read that began before a write never fills the cache with pre-write data', async () => {
    const cache = open();
    const [k] = keysOf('k');
    const src = source({ [k!]: 'old' });
    src.holdReads(true);
    const early = load(cache, src, [k!]);
    await vi.waitFor(() => expect(src.reads.length).toBe(1));
    // The write commits and invalidates while the early read is still out.
    src.set(k!, 'new');
    expect(await cache.invalidate(NS, [k!], 60)).toBe(true);
    // A reader arriving now must not join the early read.
    const late = load(cache, src, [k!]);
    await vi.waitFor(() => expect(src.reads.length).toBe(2));
    src.release();
    expect((await early).values).toEqual(['old']);
    expect((await late).values).toEqual(['new']);
    await settle();
    src.holdReads(false);
    // The early fill was refused; the late one (made after the tombstone) was taken.
    expect(await load(cache, src, [k!])).toMatchObject({ values: ['new'], hits: 1 });
    expect(src.reads).toHaveLength(2);
  });

  it('a read that began before a write and answers after it cannot overwrite the tombstone', async () => {
    const cache = open();
    const [k] = keysOf('k');
    const src = source({ [k!]: 'old' });
    src.holdReads(true);
    const early = load(cache, src, [k!]);
    await vi.waitFor(() => expect(src.reads.length).toBe(1));
    src.set(k!, 'new');
    await cache.invalidate(NS, [k!], 60);
    src.release();
    expect((await early).values).toEqual(['old']);
    await settle();
    src.holdReads(false);
    expect(await load(cache, src, [k!])).toMatchObject({ values: ['new'], hits: 0 });
  });

  it('the early fill loses even when it lands after a fresh one', async () => {
    const cache = open();
    const [k] = keysOf('k');
    const src = source({ [k!]: 'old' });
    src.holdReads(true);
    const early = load(cache, src, [k!]);
    await vi.waitFor(() => expect(src.reads.length).toBe(1));
    src.set(k!, 'new');
    await cache.invalidate(NS, [k!], 60);
    const late = load(cache, src, [k!]);
    await vi.waitFor(() => expect(src.reads.length).toBe(2));
    src.release(1);
    expect((await late).values).toEqual(['new']);
    await settle();
    src.release(0);
    expect((await early).values).toEqual(['old']);
    await settle();
    src.holdReads(false);
    expect(await load(cache, src, [k!])).toMatchObject({ values: ['new'], hits: 1 });
  });

  it('serves the new value right after invalidate, and caches it again', async () => {
    const cache = open();
    const [k] = keysOf('k');
    const src = source({ [k!]: ['r1'] });
    await load(cache, src, [k!]);
    await settle();
    src.set(k!, ['r1', 'r2']);
    await cache.invalidate(NS, [k!], 60);
    expect((await load(cache, src, [k!])).values).toEqual([['r1', 'r2']]);
    await settle();
    expect(await load(cache, src, [k!])).toMatchObject({ values: [['r1', 'r2']], hits: 1 });
    expect(src.reads).toHaveLength(2);
  });

  it('rejects every waiter of a failed read, and the next read tries again', async () => {
    const cache = open();
    const [k] = keysOf('k');
    let calls = 0;
    const failing = () => {
      calls++;
      return Promise.reject(new Error('db down'));
    };
    const both = await Promise.allSettled([
      cache.readThrough({ namespace: NS, keys: [k!], ttlSec: 60, fetch: failing }),
      cache.readThrough({ namespace: NS, keys: [k!], ttlSec: 60, fetch: failing }),
    ]);
    expect(both.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    const src = source({ [k!]: 'v' });
    expect((await load(cache, src, [k!])).values).toEqual(['v']);
    expect(calls).toBeLessThanOrEqual(2);
  });
});

describe.skipIf(!process.env.REDIS_URL)('read-through cache: two replicas sharing Redis', () => {
  const prefix = `tollgate-test-${randomBytes(6).toString('hex')}`;
  const a = createCache({ keyPrefix: prefix, redisUrl: process.env.REDIS_URL, timeoutMs: 1000 });
  const b = createCache({ keyPrefix: prefix, redisUrl: process.env.REDIS_URL, timeoutMs: 1000 });
  afterAll(async () => {
    await a.clear();
    await Promise.all([a.close(), b.close()]);
  });

  it('a write through one replica is seen through the other, even by a read the other had in flight', async () => {
    const src = source({ k: 'old' });
    await load(b, src, ['k']);
    await settle();
    // Replica b has a second read out (say the entry had just expired) when a writes.
    await b.clear();
    src.holdReads(true);
    const inFlight = load(b, src, ['k']);
    await vi.waitFor(() => expect(src.reads.length).toBe(2));
    src.set('k', 'new');
    expect(await a.invalidate(NS, ['k'], 60)).toBe(true);
    // b sees a's tombstone, so it does not join its own pre-write read.
    const after = load(b, src, ['k']);
    await vi.waitFor(() => expect(src.reads.length).toBe(3));
    src.release();
    expect((await inFlight).values).toEqual(['old']);
    expect((await after).values).toEqual(['new']);
    await settle();
    src.holdReads(false);
    expect(await load(a, src, ['k'])).toMatchObject({ values: ['new'], hits: 1 });
    expect(await load(b, src, ['k'])).toMatchObject({ values: ['new'], hits: 1 });
  });
});

describe('read-through cache: a failing store', () => {
  /** A memory store whose calls can be made to fail. */
  function flaky() {
    const inner = createMemoryStore({ maxEntries: 100 });
    const state = { down: false, tombstones: 0 };
    const gate = <T>(op: () => Promise<T>) => (state.down ? Promise.reject(new Error('store down')) : op());
    const store: CacheStore = {
      backend: 'memory',
      get: (keys) => gate(() => inner.get(keys)),
      fill: (entries) => gate(() => inner.fill(entries)),
      tombstone: (keys, value, ttl) =>
        gate(() => {
          state.tombstones++;
          return inner.tombstone(keys, value, ttl);
        }),
      clear: (p) => inner.clear(p),
      close: () => inner.close(),
    };
    return { store, state };
  }

  it('answers from the source when reads fail, without filling', async () => {
    const { store, state } = flaky();
    const errors: Error[] = [];
    const cache = createCacheWithStore(store, { onError: (e) => errors.push(e) });
    const src = source({ k: 'v' });
    state.down = true;
    expect(await load(cache, src, ['k'])).toMatchObject({ values: ['v'], bypassed: true, fetched: 1 });
    state.down = false;
    expect(await load(cache, src, ['k'])).toMatchObject({ values: ['v'], hits: 0, fetched: 1 });
    expect(src.reads).toHaveLength(2);
    expect(errors.map((e) => e.message)).toEqual(['store down']);
  });

  it('still single-flights while the store fails, joining only reads that began after it asked', async () => {
    const { store, state } = flaky();
    const cache = createCacheWithStore(store, { onError: () => {} });
    const src = source({ k: 'v' });
    src.holdReads(true);
    const before = load(cache, src, ['k']);
    await vi.waitFor(() => expect(src.reads.length).toBe(1));
    state.down = true;
    // These asked after the first read began, so it may predate a write they should see: not joined.
    const burst = Array.from({ length: 100 }, () => load(cache, src, ['k']));
    await vi.waitFor(() => expect(src.reads.length).toBe(2));
    src.release();
    await before;
    const results = await Promise.all(burst);
    expect(results.every((r) => r.bypassed && r.values[0] === 'v')).toBe(true);
    expect(results.reduce((sum, r) => sum + r.joined, 0)).toBe(99);
    expect(src.reads).toHaveLength(2);
  });

  it('a failed invalidate resolves false, bypasses those keys and is retried until it lands', async () => {
    const { store, state } = flaky();
    const cache = createCacheWithStore(store, { onError: () => {} });
    const src = source({ k: 'old', other: 'o' });
    await load(cache, src, ['k', 'other']);
    await settle();
    src.set('k', 'new');
    state.down = true;
    expect(await cache.invalidate(NS, ['k'], 60)).toBe(false);
    state.down = false;
    // The cache still holds 'old' for k, but this replica knows better and reads around it.
    expect(await load(cache, src, ['k'])).toMatchObject({ values: ['new'], bypassed: true });
    expect(await load(cache, src, ['other'])).toMatchObject({ values: ['o'], hits: 1 });
    await vi.waitFor(() => expect(state.tombstones).toBe(1), { timeout: 2000 });
    expect((await load(cache, src, ['k'])).values).toEqual(['new']);
    await settle();
    expect(await load(cache, src, ['k'])).toMatchObject({ values: ['new'], hits: 1 });
  });

  it('does not fill from a read slower than half the tombstone life', async () => {
    const cache = createCache({ tombstoneSec: 1 });
    const slow = () => new Promise<unknown[]>((resolve) => setTimeout(() => resolve(['v']), 600));
    await cache.readThrough({ namespace: NS, keys: ['k'], ttlSec: 60, fetch: slow });
    await settle();
    const src = source({ k: 'v' });
    expect(await load(cache, src, ['k'])).toMatchObject({ hits: 0, fetched: 1 });
  });

  it.each([
    [{ keyPrefix: '' }, TypeError],
    [{ timeoutMs: 0 }, RangeError],
    [{ tombstoneSec: 1.5 }, RangeError],
    [{ maxEntries: -1 }, RangeError],
  ])('rejects bad options %j', (options, error) => {
    expect(() => createCache(options)).toThrow(error);
  });
});
