// @tollgate/kit: what every subgraph shares (server bootstrap, database access, batched loaders and
// the shared cache behind them, and the pub/sub behind subscriptions).

export * from './cache/index.ts';
export * from './db/index.ts';
export * from './loaders/index.ts';
export type { LogFields, LogFn, Logger } from './log/index.ts';
export * from './pubsub/index.ts';
export * from './registry/index.ts';
export * from './server/index.ts';
export * from './signing/index.ts';
export {
  createSubgraphLogger,
  type SpanExportStats,
  startTelemetry,
  type Telemetry,
  type TelemetryEnv,
} from './telemetry/index.ts';
