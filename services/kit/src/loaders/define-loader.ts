import type { Queryable } from '../db/index.ts';

/** Keys a loader can batch on; they travel to SQL as one array parameter (`= ANY($1)`). */
export type LoaderKey = string | number;

/** How a loader's results are kept in the shared cache (see `createCache`). */
export interface LoaderCacheOptions {
  /**
   * Seconds an entry lives. Writes that call `invalidate` are visible at once; this bounds how long a
   * write that does not (a migration, a manual UPDATE) can stay unseen.
   * @default 60
   */
  ttlSec?: number;
  /**
   * Names what is cached in keys and stats, e.g. `'Product'` or `'Product.reviews'`; unique per service.
   * @default the loader's name
   */
  type?: string;
  /**
   * Part of the key hash next to the SQL text: bump it when what the rows mean changes but the SQL does
   * not (say a column changed unit in a migration), so entries written by older code are never read.
   * @default ''
   */
  version?: string;
}

/**
 * A batched loader: `batch` gets every key requested in one tick and returns one value per key,
 * in key order. `createLoaders` wraps each in a per-request DataLoader.
 */
export interface LoaderDefinition<K extends LoaderKey, V> {
  readonly kind: 'one' | 'many';
  /** The statement, which with `key` and `cache.version` versions the cache keys. */
  readonly sql: string;
  readonly key: string;
  /** Keys per statement; more keys in one tick are split over several statements. */
  readonly maxBatchSize: number;
  /** Absent: the loader batches within a request but shares nothing across requests. */
  readonly cache: Readonly<LoaderCacheOptions> | undefined;
  // Method syntax on purpose: it keeps `LoaderDefinition<string, Row>` assignable to the
  // `LoaderDefinitions` record (parameters of methods are compared bivariantly).
  batch(db: Queryable, keys: readonly K[]): Promise<V[]>;
}

export interface LoaderQuery<R> {
  /** One statement whose `$1` is the array of keys, e.g. `SELECT … FROM s.t WHERE id = ANY($1)`. */
  sql: string;
  /** The column each row is matched to its key by. Compared as strings, so `int` ids match `ID` keys. */
  key: keyof R & string;
  /**
   * Most keys in one statement. Large on purpose: a list of 200 with nested lists must stay one
   * statement per level; lower it only for queries whose plans degrade with long `ANY` arrays.
   * @default 5000
   */
  maxBatchSize?: number;
  /**
   * Keep results in the shared cache across requests and replicas. Rows go through JSON, so select
   * JSON-safe columns (cast timestamps to text). Mutations must call the loader's `invalidate`.
   * @default undefined (not cached)
   */
  cache?: LoaderCacheOptions;
}

const DEFAULT_MAX_BATCH_SIZE = 5000;

/** One row per key (`WHERE id = ANY($1)`); a key without a row loads as `null`. */
export function loadOne<R, K extends LoaderKey = string>(
  query: LoaderQuery<R>,
): LoaderDefinition<K, R | null> {
  checkQuery(query);
  return {
    ...common(query),
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
    ...common(query),
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

// What validation and defaults look at, whatever the row type.
type QueryShape = Omit<LoaderQuery<Record<string, unknown>>, 'key'> & { key: string };

function common(query: QueryShape) {
  const cache = query.cache === undefined ? undefined : { ...query.cache };
  return {
    sql: query.sql,
    key: query.key,
    maxBatchSize: query.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE,
    cache: cache && Object.freeze(cache),
  };
}

function checkQuery(query: QueryShape): void {
  const params = new Set(typeof query?.sql === 'string' ? query.sql.match(/\$\d+/g) : []);
  if (params.size !== 1 || !params.has('$1')) {
    throw new TypeError('a loader query takes exactly one parameter: the array of keys as $1');
  }
  if (typeof query.key !== 'string' || query.key === '') {
    throw new TypeError('a loader query needs the name of its key column');
  }
  const { maxBatchSize, cache } = query;
  if (maxBatchSize !== undefined && (!Number.isInteger(maxBatchSize) || maxBatchSize < 1)) {
    throw new RangeError(`maxBatchSize must be a positive integer, got ${String(maxBatchSize)}`);
  }
  if (cache === undefined) return;
  if (typeof cache !== 'object' || cache === null) throw new TypeError('cache must be an object');
  // Redis expiries are whole seconds.
  if (cache.ttlSec !== undefined && (!Number.isInteger(cache.ttlSec) || cache.ttlSec < 1)) {
    throw new RangeError(`cache.ttlSec must be a positive integer, got ${String(cache.ttlSec)}`);
  }
  if (cache.type !== undefined && (typeof cache.type !== 'string' || !/^[\w.-]+$/.test(cache.type))) {
    throw new TypeError(
      `cache.type must be letters, digits, '_', '.' or '-', got ${JSON.stringify(cache.type)}`,
    );
  }
  if (cache.version !== undefined && typeof cache.version !== 'string') {
    throw new TypeError('cache.version must be a string');
  }
}
