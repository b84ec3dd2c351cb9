import { createHash } from 'node:crypto';
import type { Context, Span } from '@opentelemetry/api';
import DataLoader from 'dataloader';
import type { Cache } from '../cache/index.ts';
import type { Queryable } from '../db/index.ts';
import { activeContext, inChildSpan } from '../telemetry/index.ts';
import type { LoaderDefinition, LoaderKey } from './define-loader.ts';
import { type BatchEvent, type LoaderStats, statsFor } from './stats.ts';

/** What resolvers see: DataLoader's two read methods, plus `invalidate` for mutations. */
export interface BatchLoader<K, V> {
  load(key: K): Promise<V>;
  loadMany(keys: readonly K[]): Promise<V[]>;
  /**
   * Call after a write has committed, with every key whose result it changed. Resolves once no request
   * on any replica sharing the cache can read the old value; never rejects (a cache that cannot be told
   * is retried in the background and bypassed meanwhile). Also forgets the keys for this request.
   */
  invalidate(keys: K | readonly K[]): Promise<void>;
}

// `never` keys make every definition assignable here whatever its key type.
export type LoaderDefinitions = Readonly<Record<string, LoaderDefinition<never, unknown>>>;

export type Loaders<D extends LoaderDefinitions> = {
  readonly [N in keyof D]: D[N] extends LoaderDefinition<infer K, infer V> ? BatchLoader<K, V> : never;
};

export interface LoaderOptions {
  /**
   * The service the loaders belong to: second segment of cache keys and first of `loaderStats()` names.
   * @default 'default'
   */
  service?: string;
  /**
   * The replica's shared cache. Without it loaders batch within a request and share nothing.
   * @default undefined
   */
  cache?: Cache;
  /**
   * Called after every batch with its size, hits and statements. Must not throw (errors are ignored).
   * @default a no-op (with tracing on, each batch is also a `subgraph.loader.batch` span)
   */
  onBatch?: (event: BatchEvent) => void;
}

interface PreparedLoader {
  name: string;
  definition: LoaderDefinition<LoaderKey, unknown>;
  /** `<service>:<type>:<hash>`; absent when the loader is not cached. */
  namespace: string | undefined;
  ttlSec: number;
  stats: LoaderStats;
}

const DEFAULT_TTL_SEC = 60;
const noop = () => {};

// Per definitions object and service: hashing and validation happen once, not per request.
const prepared = new WeakMap<LoaderDefinitions, Map<string, PreparedLoader[]>>();

/**
 * Fresh loaders for one request: each definition gets its own DataLoader the first time a resolver
 * touches it, so results are memoized for that request only and a request that needs no data pays
 * nothing. With `options.cache`, cached definitions read through it across requests.
 */
export function createLoaders<D extends LoaderDefinitions>(
  definitions: D,
  db: Queryable,
  options: LoaderOptions = {},
): Loaders<D> {
  const loaders: Record<string, BatchLoader<LoaderKey, unknown>> = {};
  for (const loader of prepare(definitions, options.service ?? 'default')) {
    let instance: BatchLoader<LoaderKey, unknown> | undefined;
    Object.defineProperty(loaders, loader.name, {
      enumerable: true,
      get: () => {
        instance ??= wrap(loader, db, options);
        return instance;
      },
    });
  }
  return loaders as Loaders<D>;
}

function prepare(definitions: LoaderDefinitions, service: string): PreparedLoader[] {
  let byService = prepared.get(definitions);
  if (!byService) {
    byService = new Map();
    prepared.set(definitions, byService);
  }
  const cached = byService.get(service);
  if (cached) return cached;

  const types = new Map<string, string>();
  const loaders = Object.entries(definitions).map(([name, raw]): PreparedLoader => {
    const definition = raw as unknown as LoaderDefinition<LoaderKey, unknown>;
    let namespace: string | undefined;
    if (definition.cache) {
      const type = definition.cache.type ?? name;
      const other = types.get(type);
      if (other !== undefined) {
        throw new TypeError(`loaders ${other} and ${name} of ${service} both cache as type '${type}'`);
      }
      types.set(type, name);
      // The hash covers what decides the shape and meaning of a cached value, so a deploy that changes
      // a loader's SQL reads fresh keys instead of rows of the old shape.
      const hash = createHash('sha256')
        .update([definition.kind, definition.key, definition.sql, definition.cache.version ?? ''].join('\0'))
        .digest('hex')
        .slice(0, 12);
      namespace = `${service}:${type}:${hash}`;
    }
    return {
      name,
      definition,
      namespace,
      ttlSec: definition.cache?.ttlSec ?? DEFAULT_TTL_SEC,
      stats: statsFor(service, name),
    };
  });
  byService.set(service, loaders);
  return loaders;
}

function wrap(
  loader: PreparedLoader,
  db: Queryable,
  options: LoaderOptions,
): BatchLoader<LoaderKey, unknown> {
  const { definition, namespace, ttlSec, stats } = loader;
  const cache = namespace === undefined ? undefined : options.cache;
  const onBatch = options.onBatch ?? noop;
  const service = options.service ?? 'default';
  // DataLoader runs a batch on a later tick: the context of the load() that opened it (the resolver's,
  // inside the subgraph's execution span) is kept here so the batch span, and the SQL spans under it,
  // stay in the request's trace.
  let opener: Context | undefined;

  const batch = (keys: readonly LoaderKey[]): Promise<unknown[]> => {
    const parent = opener ?? activeContext();
    opener = undefined;
    return inChildSpan(parent, 'subgraph.loader.batch', (span) => runBatch(keys, span));
  };

  const runBatch = async (keys: readonly LoaderKey[], span: Span | undefined): Promise<unknown[]> => {
    const started = performance.now();
    let statements = 0;
    const counted: Queryable = {
      query(text, params) {
        statements++;
        stats.statements++;
        return db.query(text, params);
      },
    };
    const fromDb = async (positions: readonly number[]) => {
      const subset = positions.map((i) => keys[i]!);
      const values = await definition.batch(counted, subset);
      // Leave this guard intact: a value in the wrong slot would answer another key (or user) with it.
      if (values.length !== subset.length) {
        throw new Error(`loader ${loader.name} returned ${values.length} values for ${subset.length} keys`);
      }
      return values;
    };
    const event: BatchEvent = {
      service,
      loader: loader.name,
      size: keys.length,
      hits: 0,
      joined: 0,
      statements: 0,
      bypassed: false,
      durationMs: 0,
    };
    stats.batches++;
    stats.keys += keys.length;
    stats.maxBatchSize = Math.max(stats.maxBatchSize, keys.length);
    try {
      if (!cache || namespace === undefined) return await fromDb(keys.map((_, i) => i));
      const result = await cache.readThrough({ namespace, ttlSec, keys: keys.map(String), fetch: fromDb });
      event.hits = result.hits;
      event.joined = result.joined;
      event.bypassed = result.bypassed;
      return result.values;
    } catch (err) {
      event.error = err;
      throw err;
    } finally {
      stats.hits += event.hits;
      stats.misses += keys.length - event.hits;
      stats.joined += event.joined;
      if (event.bypassed) stats.bypassed++;
      event.statements = statements;
      event.durationMs = performance.now() - started;
      span?.setAttributes({
        'tollgate.subgraph.name': service,
        'tollgate.dataloader.name': loader.name,
        'tollgate.dataloader.batch.size': keys.length,
        'tollgate.dataloader.cache.hits': event.hits,
        'tollgate.dataloader.cache.joined': event.joined,
        'tollgate.dataloader.cache.bypassed': event.bypassed,
        'tollgate.dataloader.statements': statements,
      });
      try {
        onBatch(event);
      } catch {
        // Telemetry must never fail a request.
      }
    }
  };

  const dataLoader = new DataLoader<LoaderKey, unknown>(batch, { maxBatchSize: definition.maxBatchSize });
  return {
    load: (key) => {
      opener ??= activeContext();
      return dataLoader.load(key);
    },
    // DataLoader's own loadMany resolves failures as Error values; rejecting keeps the types honest.
    loadMany: (keys) => {
      opener ??= activeContext();
      return Promise.all(keys.map((key) => dataLoader.load(key)));
    },
    async invalidate(input) {
      const keys: readonly LoaderKey[] = typeof input === 'object' ? input : [input];
      for (const key of keys) dataLoader.clear(key);
      if (!cache || namespace === undefined || keys.length === 0) return;
      stats.invalidations++;
      const ok = await cache.invalidate(namespace, keys.map(String), ttlSec);
      if (!ok) stats.invalidationFailures++;
    },
  };
}
