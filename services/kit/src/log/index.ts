// The log contract the gateway and the subgraphs share (also `@tollgate/kit/log`): one Logger type, one
// `log` callback shape, and the trace ids every JSON line carries.
export { type LogFields, type LogFn, type Logger, traceFields } from './logger.ts';
export { throttledErrorLog } from './throttled.ts';
