// Tracing and logs every subgraph shares: the OpenTelemetry bootstrap (`startTelemetry`, run by
// `runSubgraph`), the kit's tracer, and JSON logs carrying the trace id.

export { type SpanExportStats, type Telemetry, TelemetrySettingError } from './bootstrap.ts';
export { createSubgraphLogger } from './logger.ts';
export { activeContext, inChildSpan, recordingSpanIn, tracer } from './spans.ts';
export { startTelemetry, type TelemetryEnv } from './start-telemetry.ts';
