import type { Queryable } from '../db/index.ts';

/** Keys a loader can batch on; they travel to SQL as one array parameter (`= ANY($1)`). */
export type LoaderKey = string | number;

/**
 * A batched loader: `batch` gets every key requested in one tick and returns one value per key,
 * in key order. `createLoaders` wraps each in a per-request DataLoader.
 */
export interface LoaderDefinition<K extends LoaderKey, V> {
  readonly kind: 'one' | 'many';
  // Method syntax on purpose: it keeps `LoaderDefinition<string, Row>` assignable to the
  // `LoaderDefinitions` record (parameters of methods are compared bivariantly).
  batch(db: Queryable, keys: readonly K[]): Promise<V[]>;
}

export interface LoaderQuery<R> {
  /** One statement whose `$1` is the array of keys, e.g. `SELECT … FROM s.t WHERE id = ANY($1)`. */
  sql: string;
  /** The column each row is matched to its key by. Compared as strings, so `int` ids match `ID` keys. */
  key: keyof R & string;
}

/** One row per key (`WHERE id = ANY($1)`); a key without a row loads as `null`. */
export function loadOne<R, K extends LoaderKey = string>(
  query: LoaderQuery<R>,
): LoaderDefinition<K, R | null> {
  checkQuery(query);
  return {
    kind: 'one',
    async batch(db, keys) {
      const rows = await db.query<R>(query.sql, [keys]);
      const byKey = new Map<string, R>();
      for (const row of rows) {
        const k = String(row[query.key]);
        // First row wins, so a query with an ORDER BY decides which duplicate is kept.
        if (!byKey.has(k)) byKey.set(k, row);
      }
      return keys.map((k) => byKey.get(String(k)) ?? null);
    },
  };
}

/** Rows grouped by a foreign key (`WHERE parent_id = ANY($1) ORDER BY …`); none loads as `[]`. */
export function loadMany<R, K extends LoaderKey = string>(query: LoaderQuery<R>): LoaderDefinition<K, R[]> {
  checkQuery(query);
  return {
    kind: 'many',
    async batch(db, keys) {
      const rows = await db.query<R>(query.sql, [keys]);
      const byKey = new Map<string, R[]>();
      for (const row of rows) {
        const k = String(row[query.key]);
        const group = byKey.get(k);
        // Rows keep the query's order within each group.
        if (group) group.push(row);
        else byKey.set(k, [row]);
      }
      return keys.map((k) => byKey.get(String(k)) ?? []);
    },
  };
}

function checkQuery(query: { sql: unknown; key: unknown }): void {
  const params = new Set(typeof query?.sql === 'string' ? query.sql.match(/\$\d+/g) : []);
  if (params.size !== 1 || !params.has('$1')) {
    throw new TypeError('a loader query takes exactly one parameter: the array of keys as $1');
  }
  if (typeof query.key !== 'string' || query.key === '') {
    throw new TypeError('a loader query needs the name of its key column');
  }
}
