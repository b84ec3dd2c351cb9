// Per-request batched loaders: declare one SQL query per loader, get one statement per tick.

export { type BatchLoader, createLoaders, type LoaderDefinitions, type Loaders } from './create-loaders.ts';
export {
  type LoaderDefinition,
  type LoaderKey,
  type LoaderQuery,
  loadMany,
  loadOne,
} from './define-loader.ts';
