// The shared read-through cache behind the loaders: Redis when configured, an in-process LRU otherwise,
// with single-flight reads and tombstones so a write is never followed by a stale read.
export {
  type Cache,
  type CacheOptions,
  createCache,
  type ReadThroughRequest,
  type ReadThroughResult,
} from './create-cache.ts';
export { CacheStoreError } from './store.ts';
