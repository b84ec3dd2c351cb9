// Tollgate's executor: runs either planner's plans with spec-correct results, @defer and subscriptions.
export { createExecution, type Execution, type ExecutionOptions, type ExecutionStats } from './executor.ts';
export type { UpstreamRequest, UpstreamSubscribe } from './subscription.ts';
export { schemaWithDefer, withDefer } from './with-defer.ts';
