import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import { type Context, DiagConsoleLogger, DiagLogLevel, diag } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace';
import { loadSdk, registerSdk, samplerFor } from './sdk.ts';

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
  [name: string]: string | undefined;
}

/** What became of the spans this process recorded. */
export interface SpanExportStats {
  queued: number;
  exported: number;
  failed: number;
  dropped: number;
}

export interface Telemetry {
  readonly enabled: boolean;
  stats(): SpanExportStats;
  /** Exports what is queued (waiting at most `timeoutMs`) and stops. */
  shutdown(timeoutMs?: number): Promise<void>;
}

const off: Telemetry = {
  enabled: false,
  stats: () => ({ queued: 0, exported: 0, failed: 0, dropped: 0 }),
  shutdown: async () => {},
};
let started: Telemetry | undefined;

function positive(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value !== undefined && value.trim() !== '' && Number.isInteger(n) && n >= 0 ? n : fallback;
}

/**
 * The one tracing bootstrap of every subgraph (`runSubgraph` calls it first): the OpenTelemetry SDK (the
 * parts @opentelemetry/sdk-node assembles, see sdk.ts) with
 * OTLP over HTTP (protobuf) to OTEL_EXPORTER_OTLP_ENDPOINT, W3C trace context and baggage, the sampler
 * from OTEL_TRACES_SAMPLER (parent-based by default, so the gateway decides), a bounded export queue,
 * and the http (server spans, parent from the gateway's `traceparent`), pg (one span per statement) and
 * ioredis (one per command) instrumentations. Idempotent: a second call returns the first handle.
 */
export async function startTelemetry(
  service: string,
  env: TelemetryEnv = process.env as TelemetryEnv,
): Promise<Telemetry> {
  if (started) return started;
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') {
    started = off;
    return off;
  }
  // Loaded only here: in-process tests and tools never pay for the SDK.
  const [{ OTLPTraceExporter }, { HttpInstrumentation }, { PgInstrumentation }, { IORedisInstrumentation }] =
    await Promise.all([
      import('@opentelemetry/exporter-trace-otlp-proto'),
      import('@opentelemetry/instrumentation-http'),
      import('@opentelemetry/instrumentation-pg'),
      import('@opentelemetry/instrumentation-ioredis'),
    ]);
  const level = env.OTEL_LOG_LEVEL?.trim().toUpperCase() as keyof typeof DiagLogLevel | undefined;
  if (level && level in DiagLogLevel) diag.setLogger(new DiagConsoleLogger(), DiagLogLevel[level]);
  const sdk = loadSdk();
  const max = Math.max(1, positive(env.OTEL_BSP_MAX_QUEUE_SIZE, 2048));
  const stats: SpanExportStats = { queued: 0, exported: 0, failed: 0, dropped: 0 };
  const processor = new BoundedSpanProcessor(
    (exporter) =>
      new sdk.trace.BatchSpanProcessor({
        exporter,
        maxQueueSize: max,
        maxExportBatchSize: Math.min(512, max),
        scheduledDelayMillis: positive(env.OTEL_BSP_SCHEDULE_DELAY, 5000),
      }),
    new OTLPTraceExporter(),
    max,
    stats,
    sdk.core.ExportResultCode.SUCCESS,
  );
  const ratio = Number(env.OTEL_TRACES_SAMPLER_ARG);
  const shutdown = registerSdk(sdk, {
    // OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES (the env detector) win over this default.
    serviceName: service,
    sampler: samplerFor(
      sdk,
      env.OTEL_TRACES_SAMPLER,
      Number.isFinite(ratio) && ratio >= 0 && ratio <= 1 ? ratio : 1,
    ),
    spanProcessors: [processor],
    instrumentations: [
      new HttpInstrumentation({
        // health checks are not traffic
        ignoreIncomingRequestHook: (req: IncomingMessage) => (req.url ?? '').startsWith('/health'),
        // a subgraph calls nobody over node:http but the collector, whose exporter suppresses its own spans
        ignoreOutgoingRequestHook: () => true,
      }),
      // no root spans for statements outside a traced request (migrations, health `SELECT 1`)
      new PgInstrumentation({ requireParentSpan: true }),
      new IORedisInstrumentation({ requireParentSpan: true }),
    ],
  });
  // The service's main.ts imported the kit (and with it node:http, pg and ioredis) before this ran, as
  // ESM, which require hooks do not see. Requiring them again lets each instrumentation patch the
  // prototypes every importer shares (http.Server, pg.Client, pg-pool, ioredis).
  const require = createRequire(import.meta.url);
  require('node:http');
  require('pg');
  require('ioredis');
  const fromPg = createRequire(require.resolve('pg'));
  fromPg('pg-pool');

  started = {
    enabled: true,
    stats: () => ({ ...stats }),
    async shutdown(timeoutMs = 2_000) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        shutdown().catch(() => undefined),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, timeoutMs);
        }),
      ]);
      clearTimeout(timer);
    },
  };
  return started;
}

/**
 * At most `max` spans queued or being exported; beyond that spans are dropped and counted, so a
 * collector that is down or slow costs bounded memory and never a request's time.
 */
class BoundedSpanProcessor implements SpanProcessor {
  readonly #inner: SpanProcessor;
  readonly #max: number;
  readonly #stats: SpanExportStats;
  #held = 0;

  constructor(
    batch: (exporter: SpanExporter) => SpanProcessor,
    exporter: SpanExporter,
    max: number,
    stats: SpanExportStats,
    success: number,
  ) {
    this.#max = max;
    this.#stats = stats;
    this.#inner = batch({
      export: (spans, done) =>
        exporter.export(spans, (result) => {
          this.#held -= spans.length;
          if (result.code === success) stats.exported += spans.length;
          else stats.failed += spans.length;
          done(result);
        }),
      shutdown: () => exporter.shutdown(),
      forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
    });
  }

  onStart(span: Span, parentContext: Context): void {
    this.#inner.onStart(span, parentContext);
  }

  onEnd(span: ReadableSpan): void {
    if ((span.spanContext().traceFlags & 1) === 0) return;
    if (this.#held >= this.#max) {
      this.#stats.dropped++;
      return;
    }
    this.#held++;
    this.#stats.queued++;
    this.#inner.onEnd(span);
  }

  forceFlush(): Promise<void> {
    return this.#inner.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.#inner.shutdown();
  }
}
