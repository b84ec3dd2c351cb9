// Per-client cost budgets: pure GCRA math, a store interface with memory, Redis and resilient backends,
// and the IETF RateLimit headers. No Apollo types here; the plugin adapts it.

export type { BucketState, RatePolicy, TakeResult } from './bucket.ts';
export { refund, take } from './bucket.ts';
export { rateLimitHeaders } from './headers.ts';
export type { MemoryRateLimitStore, MemoryStoreOptions } from './memory-store.ts';
export { createMemoryStore } from './memory-store.ts';
export { createNamespacedStore } from './namespaced-store.ts';
export {
  budgetKey,
  createRateLimitPlugin,
  planFor,
  type RateLimitContext,
  type RateLimitOutcome,
  type RateLimitPluginDeps,
} from './plugin.ts';
export type { RedisStoreOptions } from './redis-store.ts';
export { createRedisStore } from './redis-store.ts';
export type {
  ResilientRateLimitStore,
  ResilientStoreOptions,
  ResilientStoreStats,
} from './resilient-store.ts';
export { createResilientStore } from './resilient-store.ts';
export type { RateDecision, RateLimitStore } from './store.ts';
export { RATELIMIT_STORE_UNAVAILABLE, RateLimitStoreError } from './store.ts';
