// Observability: traces (OpenTelemetry, OTLP/HTTP), the request record behind the access log, and JSON
// logs carrying the trace id. The SDK itself loads only when `startTracing` runs. (The Prometheus
// metrics are wired in server/, above every concern they read.)

export { filterBaggage } from './baggage.ts';
export { traceExecution } from './execution.ts';
export { createLogger, type GatewayLogger, type LoggerOptions } from './logger.ts';
export { startOperationSpan, withEventSpan } from './operation-spans.ts';
export { createTelemetryPlugin, type TelemetryPluginOptions } from './plugin.ts';
export { type AccessLogEntry, traceRequests } from './request.ts';
export {
  annotateRequest,
  bindRecord,
  failSpan,
  recordingSpan,
  recordOf,
  traceContextOf,
  tracer,
  withSpan,
} from './spans.ts';
export { type SpanExportStats, startTracing, type Tracing, type TracingOptions } from './tracing.ts';
