// Tollgate's executor: runs either planner's plans with spec-correct results and @defer (issue 15).
export { createExecution, type Execution, type ExecutionOptions, type ExecutionStats } from './executor.ts';
export { schemaWithDefer, withDefer } from './with-defer.ts';
