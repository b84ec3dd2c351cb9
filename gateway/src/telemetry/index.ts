// Observability: Prometheus metrics for GET /metrics (tracing lands with the telemetry issue).
export { createGatewayMetrics, type GatewayMetrics } from './metrics.ts';
