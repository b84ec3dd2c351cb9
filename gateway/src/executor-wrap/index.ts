// Decorating the gateway's executor: one helper the fast executor, authorization and tracing share.
// A leaf folder (it imports no other folder), so each of theirs can use it without an import cycle.
export { wrapExecutor } from './wrap-executor.ts';
