// Tracing and logs every subgraph shares: the OpenTelemetry bootstrap (`startTelemetry`, run by
// `runSubgraph`), the kit's tracer, and JSON logs carrying the trace id.
export { createSubgraphLogger, type SubgraphLogger } from './logger.ts';
export { activeContext, inChildSpan, recordingSpanIn, tracer } from './spans.ts';
export {
  type SpanExportStats,
  startTelemetry,
  type Telemetry,
  type TelemetryEnv,
} from './start-telemetry.ts';
