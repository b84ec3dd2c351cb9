import { DiagConsoleLogger, DiagLogLevel, diag } from '@opentelemetry/api';
import {
  parsePropagators,
  parseProtocol,
  startTracingSdk,
  TELEMETRY_OFF,
  type Telemetry,
} from './bootstrap.ts';
import { packageVersionOf } from './semconv.ts';

/** The standard OpenTelemetry variables a subgraph process reads (the exporter reads OTEL_EXPORTER_OTLP_*). */
export interface TelemetryEnv {
  /** `true` turns tracing off. */
  OTEL_SDK_DISABLED?: string;
  /** @default the service's name */
  OTEL_SERVICE_NAME?: string;
  /** @default 'parentbased_always_on' (follow the gateway's decision) */
  OTEL_TRACES_SAMPLER?: string;
  /** Ratio of the traceidratio samplers. @default 1 */
  OTEL_TRACES_SAMPLER_ARG?: string;
  /** Spans waiting for export at most; beyond it they are dropped and counted. @default 2048 */
  OTEL_BSP_MAX_QUEUE_SIZE?: string;
  /** @default 5000 */
  OTEL_BSP_SCHEDULE_DELAY?: string;
  /** The SDK's own diagnostics on the console: `error`, `warn`, `info`, `debug`. @default none */
  OTEL_LOG_LEVEL?: string;
  /** `tracecontext`, `baggage`, `b3`, `b3multi`, `jaeger` or `none`, comma-separated. @default 'tracecontext,baggage' */
  OTEL_PROPAGATORS?: string;
  /** `http/protobuf`, `http/json` or `grpc` (OTEL_EXPORTER_OTLP_TRACES_PROTOCOL wins). @default 'http/protobuf' */
  OTEL_EXPORTER_OTLP_PROTOCOL?: string;
  [name: string]: string | undefined;
}

let started: Telemetry | undefined;

function positive(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value !== undefined && value.trim() !== '' && Number.isInteger(n) && n >= 0 ? n : fallback;
}

/**
 * Tracing of every subgraph (`runSubgraph` calls it first), from the standard OTEL_* variables, through
 * the bootstrap the gateway shares (bootstrap.ts): OTLP to OTEL_EXPORTER_OTLP_ENDPOINT (protobuf over HTTP
 * unless OTEL_EXPORTER_OTLP_PROTOCOL says otherwise), W3C trace context and baggage unless OTEL_PROPAGATORS
 * says otherwise, the sampler from OTEL_TRACES_SAMPLER (parent-based by default, so the gateway decides),
 * a bounded export queue, and the http (server spans, parent from the gateway's `traceparent`), pg (one
 * span per statement) and ioredis (one per command) instrumentations. Idempotent: a second call returns
 * the first handle. An unknown protocol or propagator throws a `TelemetrySettingError` naming it.
 * `service.version` is `version`, by default the version of the package the entry script belongs to
 * (`services/<name>/package.json`); OTEL_RESOURCE_ATTRIBUTES wins over it.
 */
export async function startTelemetry(
  service: string,
  env: TelemetryEnv = process.env as TelemetryEnv,
  version: string | undefined = packageVersionOf(process.argv[1]),
): Promise<Telemetry> {
  if (started) return started;
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') {
    started = TELEMETRY_OFF;
    return TELEMETRY_OFF;
  }
  const level = env.OTEL_LOG_LEVEL?.trim().toUpperCase() as keyof typeof DiagLogLevel | undefined;
  if (level && level in DiagLogLevel) diag.setLogger(new DiagConsoleLogger(), DiagLogLevel[level]);
  const ratio = Number(env.OTEL_TRACES_SAMPLER_ARG);
  started = await startTracingSdk({
    serviceName: service,
    serviceVersion: version,
    sampler: env.OTEL_TRACES_SAMPLER,
    samplerRatio: Number.isFinite(ratio) && ratio >= 0 && ratio <= 1 ? ratio : 1,
    maxQueueSize: positive(env.OTEL_BSP_MAX_QUEUE_SIZE, 2048),
    scheduleDelayMs: positive(env.OTEL_BSP_SCHEDULE_DELAY, 5000),
    protocol: parseProtocol(env),
    propagators: parsePropagators(env.OTEL_PROPAGATORS),
    instrumentations: ['http', 'pg', 'ioredis'],
  });
  return started;
}
