// Subgraph traffic: every fetch goes through the pool of that subgraph's replicas.
export { ReplicaPool, type ReplicaPoolOptions, type ReplicaStats } from './replica-pool.ts';
export { ReplicaDataSource, type ReplicaDataSourceOptions, type RequestDecorator } from './data-source.ts';
export { PoolError, type PoolErrorCode } from './errors.ts';
