import DataLoader from 'dataloader';
import type { Queryable } from '../db/index.ts';
import type { LoaderDefinition, LoaderKey } from './define-loader.ts';

/** What resolvers see: DataLoader's two read methods, nothing to mutate its cache with. */
export interface BatchLoader<K, V> {
  load(key: K): Promise<V>;
  loadMany(keys: readonly K[]): Promise<V[]>;
}

// `never` keys make every definition assignable here whatever its key type.
export type LoaderDefinitions = Readonly<Record<string, LoaderDefinition<never, unknown>>>;

export type Loaders<D extends LoaderDefinitions> = {
  readonly [N in keyof D]: D[N] extends LoaderDefinition<infer K, infer V> ? BatchLoader<K, V> : never;
};

/**
 * Fresh loaders for one request: each definition gets its own DataLoader the first time a resolver
 * touches it, so results are cached for that request only and a request that needs no data pays
 * nothing.
 */
export function createLoaders<D extends LoaderDefinitions>(definitions: D, db: Queryable): Loaders<D> {
  const loaders: Record<string, BatchLoader<LoaderKey, unknown>> = {};
  for (const [name, definition] of Object.entries(definitions)) {
    let loader: BatchLoader<LoaderKey, unknown> | undefined;
    Object.defineProperty(loaders, name, {
      enumerable: true,
      get: () => {
        loader ??= wrap(definition as unknown as LoaderDefinition<LoaderKey, unknown>, db);
        return loader;
      },
    });
  }
  return loaders as Loaders<D>;
}

function wrap<K extends LoaderKey, V>(definition: LoaderDefinition<K, V>, db: Queryable): BatchLoader<K, V> {
  // Seam: the read-through cache and loader metrics go around this batch call, so resolvers and
  // services do not change when they arrive.
  const dataLoader = new DataLoader<K, V>((keys) => definition.batch(db, keys));
  return {
    load: (key) => dataLoader.load(key),
    // DataLoader's own loadMany resolves failures as Error values; rejecting keeps the types honest.
    loadMany: (keys) => Promise.all(keys.map((key) => dataLoader.load(key))),
  };
}
