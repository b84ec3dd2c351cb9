import { describe, expect, it } from 'vitest';
import { createCache } from '../cache/index.ts';
import type { Queryable } from '../db/index.ts';
import { type BatchEvent, createLoaders, loaderStats, loadMany, loadOne } from './index.ts';

interface Row {
  id: string;
  owner: string;
  n: number;
}

const ROWS: Row[] = [
  { id: '1', owner: 'a', n: 10 },
  { id: '2', owner: 'b', n: 20 },
  { id: '3', owner: 'a', n: 30 },
  { id: '4', owner: 'c', n: 40 },
];

/** A fake database: answers `= ANY($1)` on the column named in the SQL, in a scrambled order. */
function fakeDb(column: keyof Row) {
  const calls: { sql: string; keys: unknown[] }[] = [];
  const db: Queryable = {
    async query<R>(sql: string, params?: readonly unknown[]) {
      const keys = params?.[0] as unknown[];
      calls.push({ sql, keys });
      const wanted = new Set(keys.map(String));
      // Reverse so results come back in a different order from the keys.
      return ROWS.filter((r) => wanted.has(String(r[column]))).reverse() as R[];
    },
  };
  return { db, calls };
}

const definitions = {
  byId: loadOne<Row>({ sql: 'SELECT * FROM t WHERE id = ANY($1)', key: 'id' }),
  byOwner: loadMany<Row>({ sql: 'SELECT * FROM t WHERE owner = ANY($1) ORDER BY id', key: 'owner' }),
};

describe('loadOne', () => {
  it('returns rows in key order with null for missing keys, from one query per tick', async () => {
    const { db, calls } = fakeDb('id');
    const loaders = createLoaders(definitions, db);
    const results = await Promise.all(['3', '9', '1'].map((k) => loaders.byId.load(k)));
    expect(results.map((r) => r?.n ?? null)).toEqual([30, null, 10]);
    expect(calls).toEqual([{ sql: 'SELECT * FROM t WHERE id = ANY($1)', keys: ['3', '9', '1'] }]);
  });

  it('sends one more query for keys requested on a later tick, and caches within the request', async () => {
    const { db, calls } = fakeDb('id');
    const loaders = createLoaders(definitions, db);
    await Promise.all([loaders.byId.load('1'), loaders.byId.load('2')]);
    const again = await Promise.all([loaders.byId.load('2'), loaders.byId.load('4')]);
    expect(again.map((r) => r?.n)).toEqual([20, 40]);
    expect(calls.map((c) => c.keys)).toEqual([['1', '2'], ['4']]);
  });

  it('matches numeric key columns to string keys', async () => {
    const db: Queryable = { query: async <R>() => [{ id: 7, v: 'x' }] as R[] };
    const loaders = createLoaders(
      { byId: loadOne<{ id: number; v: string }>({ sql: 'x = ANY($1)', key: 'id' }) },
      db,
    );
    expect(await loaders.byId.load('7')).toEqual({ id: 7, v: 'x' });
  });

  it('loadMany keeps key order', async () => {
    const { db, calls } = fakeDb('id');
    const loaders = createLoaders(definitions, db);
    expect((await loaders.byId.loadMany(['4', '0', '2'])).map((r) => r?.id ?? null)).toEqual([
      '4',
      null,
      '2',
    ]);
    expect(calls).toHaveLength(1);
  });
});

describe('loadMany', () => {
  it('groups rows by the key column in query order, with [] for missing keys, in one query', async () => {
    const { db, calls } = fakeDb('owner');
    const loaders = createLoaders(definitions, db);
    const results = await Promise.all(['c', 'zz', 'a'].map((k) => loaders.byOwner.load(k)));
    // The fake returns rows reversed; the loader must keep that order within each group.
    expect(results.map((rows) => rows.map((r) => r.id))).toEqual([['4'], [], ['3', '1']]);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.keys).toEqual(['c', 'zz', 'a']);
  });
});

describe('createLoaders', () => {
  it('gives every request its own cache', async () => {
    const { db, calls } = fakeDb('id');
    await createLoaders(definitions, db).byId.load('1');
    await createLoaders(definitions, db).byId.load('1');
    expect(calls).toHaveLength(2);
  });

  it('keeps loaders of one request apart and only queries the ones used', async () => {
    const { db, calls } = fakeDb('id');
    const loaders = createLoaders(definitions, db);
    await loaders.byId.load('1');
    expect(loaders.byId).toBe(loaders.byId);
    expect(calls.map((c) => c.sql)).toEqual(['SELECT * FROM t WHERE id = ANY($1)']);
  });

  it('rejects every load of a batch whose query fails', async () => {
    const db: Queryable = {
      query: async () => {
        throw new Error('boom');
      },
    };
    const loaders = createLoaders(definitions, db);
    const results = await Promise.allSettled([loaders.byId.load('1'), loaders.byId.load('2')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });
});

describe('abuse', () => {
  it.each([
    ['no parameter', 'SELECT * FROM t'],
    ['a second parameter', 'SELECT * FROM t WHERE id = ANY($1) AND n > $2'],
    ['the wrong parameter', 'SELECT * FROM t WHERE id = ANY($2)'],
  ])('rejects SQL with %s', (_, sql) => {
    expect(() => loadOne<Row>({ sql, key: 'id' })).toThrow(TypeError);
    expect(() => loadMany<Row>({ sql, key: 'id' })).toThrow(TypeError);
  });

  it('rejects a missing key column', () => {
    expect(() => loadOne<Row>({ sql: 'x = ANY($1)', key: '' as 'id' })).toThrow(TypeError);
  });

  it.each([
    ['maxBatchSize 0', { maxBatchSize: 0 }, RangeError],
    ['maxBatchSize 1.5', { maxBatchSize: 1.5 }, RangeError],
    ['cache.ttlSec 0', { cache: { ttlSec: 0 } }, RangeError],
    ['cache.ttlSec 0.5', { cache: { ttlSec: 0.5 } }, RangeError],
    ['cache.type with a colon', { cache: { type: 'a:b' } }, TypeError],
    ['an empty cache.type', { cache: { type: '' } }, TypeError],
  ])('rejects %s', (_, extra, error) => {
    expect(() => loadOne<Row>({ sql: 'x = ANY($1)', key: 'id', ...extra })).toThrow(error);
  });

  it('rejects two loaders of a service caching as one type, at createLoaders', () => {
    const twins = {
      a: loadOne<Row>({ sql: 'x = ANY($1)', key: 'id', cache: { type: 'Thing' } }),
      b: loadOne<Row>({ sql: 'y = ANY($1)', key: 'id', cache: { type: 'Thing' } }),
    };
    expect(() => createLoaders(twins, fakeDb('id').db, { service: 'twins' })).toThrow(
      /both cache as type 'Thing'/,
    );
  });

  it('rejects a batch that returns the wrong number of values', async () => {
    const short = {
      byId: { ...loadOne<Row>({ sql: 'x = ANY($1)', key: 'id' }), batch: async () => [null] },
    };
    const loaders = createLoaders(short, fakeDb('id').db);
    await expect(Promise.all([loaders.byId.load('1'), loaders.byId.load('2')])).rejects.toThrow(
      /1 values for 2 keys/,
    );
  });

  it('accepts $1 used more than once', () => {
    expect(() => loadOne<Row>({ sql: 'id = ANY($1) OR owner = ANY($1)', key: 'id' })).not.toThrow();
  });
});

describe('maxBatchSize', () => {
  it('splits a tick over statements of at most maxBatchSize keys', async () => {
    const { db, calls } = fakeDb('id');
    const loaders = createLoaders(
      { byId: loadOne<Row>({ sql: 'x = ANY($1)', key: 'id', maxBatchSize: 2 }) },
      db,
    );
    const results = await loaders.byId.loadMany(['1', '2', '3', '4', '5']);
    expect(results.map((r) => r?.n ?? null)).toEqual([10, 20, 30, 40, null]);
    expect(calls.map((c) => c.keys)).toEqual([['1', '2'], ['3', '4'], ['5']]);
  });

  it('defaults to 5000: a tick of 5000 keys is one statement', async () => {
    const { db, calls } = fakeDb('id');
    const loaders = createLoaders(definitions, db);
    await loaders.byId.loadMany(Array.from({ length: 5000 }, (_, i) => String(i)));
    expect(calls).toHaveLength(1);
    await createLoaders(definitions, db).byId.loadMany(Array.from({ length: 5001 }, (_, i) => String(i)));
    expect(calls).toHaveLength(3);
  });
});

describe('with a shared cache', () => {
  const cached = {
    byId: loadOne<Row>({
      sql: 'SELECT * FROM t WHERE id = ANY($1)',
      key: 'id',
      cache: { type: 'Row', ttlSec: 60 },
    }),
    byOwner: loadMany<Row>({
      sql: 'SELECT * FROM t WHERE owner = ANY($1) ORDER BY id',
      key: 'owner',
      cache: { type: 'Owner.rows' },
    }),
    uncached: loadOne<Row>({ sql: 'SELECT * FROM t WHERE id = ANY($1) -- raw', key: 'id' }),
  };
  const settle = () => new Promise((resolve) => setImmediate(resolve));

  it('serves a second request from the cache with no statement, nulls and empty lists included', async () => {
    const cache = createCache();
    const ids = fakeDb('id');
    const first = createLoaders(cached, ids.db, { service: 'warm', cache });
    await first.byId.loadMany(['1', '9']);
    await settle();
    const second = createLoaders(cached, ids.db, { service: 'warm', cache });
    expect((await second.byId.loadMany(['9', '1'])).map((r) => r?.n ?? null)).toEqual([null, 10]);
    expect(ids.calls).toHaveLength(1);

    const owners = fakeDb('owner');
    await createLoaders(cached, owners.db, { service: 'warm', cache }).byOwner.loadMany(['a', 'zz']);
    await settle();
    const lists = await createLoaders(cached, owners.db, { service: 'warm', cache }).byOwner.loadMany([
      'zz',
      'a',
    ]);
    expect(lists.map((rows) => rows.map((r) => r.id))).toEqual([[], ['3', '1']]);
    expect(owners.calls).toHaveLength(1);
  });

  it('leaves loaders without cache options uncached', async () => {
    const cache = createCache();
    const { db, calls } = fakeDb('id');
    await createLoaders(cached, db, { service: 'raw', cache }).uncached.load('1');
    await settle();
    await createLoaders(cached, db, { service: 'raw', cache }).uncached.load('1');
    expect(calls).toHaveLength(2);
  });

  it('invalidate drops the key for every later request and for this one', async () => {
    const cache = createCache();
    const rows = ROWS.map((r) => ({ ...r }));
    const calls: unknown[] = [];
    const db: Queryable = {
      async query<R>(_sql: string, params?: readonly unknown[]) {
        calls.push(params?.[0]);
        const wanted = new Set((params?.[0] as string[] | undefined)?.map(String));
        return rows.filter((r) => wanted.has(r.id)).map((r) => ({ ...r })) as R[];
      },
    };
    const request = createLoaders(cached, db, { service: 'inv', cache });
    expect((await request.byId.load('2'))?.n).toBe(20);
    await settle();
    rows[1]!.n = 21;
    await request.byId.invalidate('2');
    expect((await request.byId.load('2'))?.n).toBe(21);
    await settle();
    expect((await createLoaders(cached, db, { service: 'inv', cache }).byId.load('2'))?.n).toBe(21);
    expect(calls).toHaveLength(2);
  });

  it('shares one statement between concurrent requests that miss the same keys', async () => {
    const cache = createCache();
    const { db, calls } = fakeDb('id');
    const results = await Promise.all(
      Array.from({ length: 100 }, () =>
        createLoaders(cached, db, { service: 'flight', cache }).byId.loadMany(['1', '2']),
      ),
    );
    expect(results.every((r) => r.map((x) => x?.n).join() === '10,20')).toBe(true);
    expect(calls).toHaveLength(1);
  });

  it('counts batches, sizes, hits, misses and statements per loader, and reports each batch', async () => {
    const cache = createCache();
    const events: BatchEvent[] = [];
    const { db } = fakeDb('id');
    const options = { service: 'stats', cache, onBatch: (e: BatchEvent) => events.push(e) };
    await createLoaders(cached, db, options).byId.loadMany(['1', '2', '3']);
    await settle();
    await createLoaders(cached, db, options).byId.loadMany(['1', '4']);
    expect(loaderStats()['stats.byId']).toEqual({
      batches: 2,
      keys: 5,
      maxBatchSize: 3,
      hits: 1,
      misses: 4,
      joined: 0,
      statements: 2,
      bypassed: 0,
      invalidations: 0,
      invalidationFailures: 0,
    });
    expect(events.map(({ durationMs, ...e }) => e)).toEqual([
      { service: 'stats', loader: 'byId', size: 3, hits: 0, joined: 0, statements: 1, bypassed: false },
      { service: 'stats', loader: 'byId', size: 2, hits: 1, joined: 0, statements: 1, bypassed: false },
    ]);
  });

  it('ignores an onBatch that throws', async () => {
    const { db } = fakeDb('id');
    const loaders = createLoaders(definitions, db, {
      onBatch: () => {
        throw new Error('telemetry bug');
      },
    });
    expect((await loaders.byId.load('1'))?.n).toBe(10);
  });

  it('versions keys by the SQL, so changed SQL never reads entries of the old shape', async () => {
    const cache = createCache();
    const v1 = {
      byId: loadOne<Row>({
        sql: 'SELECT id, n FROM t WHERE id = ANY($1)',
        key: 'id',
        cache: { type: 'Row' },
      }),
    };
    const v2 = {
      byId: loadOne<Row>({
        sql: 'SELECT id, n, owner FROM t WHERE id = ANY($1)',
        key: 'id',
        cache: { type: 'Row' },
      }),
    };
    const { db, calls } = fakeDb('id');
    await createLoaders(v1, db, { service: 'ver', cache }).byId.load('1');
    await settle();
    await createLoaders(v2, db, { service: 'ver', cache }).byId.load('1');
    await settle();
    await createLoaders(v1, db, { service: 'ver', cache }).byId.load('1');
    expect(calls).toHaveLength(2);
  });
});
