// Persisted queries: APQ (hash → text, in Redis or an in-process LRU) and trusted documents (only the
// operations of a registered manifest run). Pure cores beside a thin Apollo adapter (plugin.ts).
export { PERSISTED_MANIFEST_INVALID, PersistedManifestError } from './errors.ts';
export {
  createPersistedQueries,
  type PersistedQueries,
  type PersistedQueriesDeps,
  type PersistedQueriesOptions,
} from './plugin.ts';
