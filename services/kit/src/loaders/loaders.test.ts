import { describe, expect, it } from 'vitest';
import type { Queryable } from '../db/index.ts';
import { createLoaders, loadMany, loadOne } from './index.ts';

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

  it('accepts $1 used more than once', () => {
    expect(() => loadOne<Row>({ sql: 'id = ANY($1) OR owner = ANY($1)', key: 'id' })).not.toThrow();
  });
});
