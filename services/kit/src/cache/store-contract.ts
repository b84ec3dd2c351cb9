// The behaviour every CacheStore must share, run against each backend by its own spec file
// (memory-store.test.ts, redis-store.test.ts), the way envelop tests its rate-limiter stores.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CacheStore } from './store.ts';

export function describeStoreContract(
  name: string,
  open: () => Promise<CacheStore> | CacheStore,
  { skip = false }: { skip?: boolean } = {},
): void {
  describe.skipIf(skip)(`${name}: the CacheStore contract`, () => {
    let store: CacheStore;
    // A fresh prefix per run, so a shared Redis never mixes runs; cleared afterwards.
    const prefix = `tollgate-test-${randomBytes(6).toString('hex')}:`;
    const key = (k: string) => prefix + k;

    beforeAll(async () => {
      store = await open();
    });
    afterAll(async () => {
      await store?.clear(prefix);
      await store?.close();
    });

    it('answers keys in order, null where there is nothing', async () => {
      await store.fill([
        { key: key('a'), value: 'va', expected: null, ttlSec: 60 },
        { key: key('c'), value: 'vc', expected: null, ttlSec: 60 },
      ]);
      expect(await store.get([key('c'), key('b'), key('a')])).toEqual(['vc', null, 'va']);
      expect(await store.get([])).toEqual([]);
    });

    it('fills only when the key still holds what the reader saw', async () => {
      await store.fill([{ key: key('n1'), value: 'first', expected: null, ttlSec: 60 }]);
      // Expected nothing, found a value: dropped.
      await store.fill([{ key: key('n1'), value: 'second', expected: null, ttlSec: 60 }]);
      expect(await store.get([key('n1')])).toEqual(['first']);

      await store.tombstone([key('n1')], 't-1', 60);
      // Saw nothing, but a tombstone landed meanwhile: dropped (the read may predate the write).
      await store.fill([{ key: key('n1'), value: 'stale', expected: null, ttlSec: 60 }]);
      // Saw an older tombstone: dropped too.
      await store.fill([{ key: key('n1'), value: 'stale', expected: 't-0', ttlSec: 60 }]);
      expect(await store.get([key('n1')])).toEqual(['t-1']);
      // Saw this very tombstone, so it read after the write: taken.
      await store.fill([{ key: key('n1'), value: 'fresh', expected: 't-1', ttlSec: 60 }]);
      expect(await store.get([key('n1')])).toEqual(['fresh']);
    });

    it('tombstones overwrite whatever a key holds, for every key given', async () => {
      await store.fill([
        { key: key('x'), value: 'vx', expected: null, ttlSec: 60 },
        { key: key('y'), value: 'vy', expected: null, ttlSec: 60 },
      ]);
      await store.tombstone([key('x'), key('y'), key('z')], 't-2', 60);
      expect(await store.get([key('x'), key('y'), key('z')])).toEqual(['t-2', 't-2', 't-2']);
    });

    it('clears only keys under the prefix', async () => {
      const other = `${prefix.slice(0, -1)}-other:`;
      await store.fill([
        { key: key('k'), value: 'v', expected: null, ttlSec: 60 },
        { key: `${other}k`, value: 'v', expected: null, ttlSec: 60 },
      ]);
      await store.clear(prefix);
      expect(await store.get([key('k'), key('a'), `${other}k`])).toEqual([null, null, 'v']);
      await store.clear(other);
    });
  });
}
