// The query-plan executor that replaces @apollo/gateway's per-request execution (issue 10).
export {
  createFastExecution,
  type FastExecution,
  type FastExecutorOptions,
  type FastExecutorStats,
} from './fast-executor.ts';
