// The log contract the gateway and the subgraphs share (also `@tollgate/kit/log`): one Logger type, one
// `log` callback shape, the trace ids every line carries, and JSON or human-readable output.
export {
  isPretty,
  LOG_FORMATS,
  LOG_LEVELS,
  type LogFormat,
  type LogLevel,
  pinoOptions,
  prettyDestination,
} from './format.ts';
export { type LogFields, type LogFn, type Logger, traceFields } from './logger.ts';
export { throttledErrorLog } from './throttled.ts';
