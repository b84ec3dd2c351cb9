// Subgraph traffic: every fetch goes through the pool of that subgraph's replicas (balancing, health,
// outlier ejection, retries, timeouts, DNS discovery); `poolAdminView` is the read-only /admin/pool JSON.

export { type PoolAdminView, poolAdminView } from './admin.ts';
export {
  ReplicaDataSource,
  type ReplicaDataSourceOptions,
  type RequestDecorator,
  type RequestHeaderRules,
} from './data-source.ts';
export type { Resolver } from './discovery.ts';
export { PoolError, type PoolErrorCode } from './errors.ts';
export { POOL_DEFAULTS } from './options.ts';
export {
  type AttemptEvent,
  type PoolRoute,
  type PoolSnapshot,
  type ReplicaLabels,
  ReplicaPool,
  type ReplicaPoolOptions,
  type ReplicaSource,
  type ReplicaState,
  type ReplicaStats,
  type ReplicaTlsOptions,
  type RouteOutcome,
  type RoutingCount,
  type SendOptions,
  type SendResult,
} from './replica-pool.ts';
export type { StrategyName } from './strategies/index.ts';
