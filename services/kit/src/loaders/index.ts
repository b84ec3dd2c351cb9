// Batched loaders: declare one SQL query per loader, get one statement per tick per request, read
// through the replica's shared cache when the loader opts in.

export {
  type BatchLoader,
  createLoaders,
  type LoaderDefinitions,
  type LoaderOptions,
  type Loaders,
} from './create-loaders.ts';
export {
  type LoaderCacheOptions,
  type LoaderDefinition,
  type LoaderKey,
  type LoaderQuery,
  loadMany,
  loadOne,
} from './define-loader.ts';
export { type BatchEvent, type LoaderStats, loaderStats } from './stats.ts';
