// The one OpenTelemetry tracing bootstrap of Tollgate's processes: every subgraph (through
// `startTelemetry`) and the gateway (`@tollgate/kit/tracing`, from its config) start the SDK here.
// Loads no SDK code until `startTracingSdk` runs.
import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import type { Context, ContextManager } from '@opentelemetry/api';
import type { ReadableSpan, Sampler, Span, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace';
import {
  exporterFor,
  loadSdk,
  type OtlpProtocol,
  type PropagatorName,
  propagatorFor,
  registerSdk,
  samplerFor,
} from './sdk.ts';
import { routeOf, sqlSpanName, summarizeQuery } from './semconv.ts';

export {
  type OtlpProtocol,
  PROPAGATORS,
  PROTOCOLS,
  type PropagatorName,
  parsePropagators,
  parseProtocol,
  SAMPLERS,
  TelemetrySettingError,
} from './sdk.ts';
export { packageVersionOf } from './semconv.ts';

/** What became of the spans this process recorded, since start. */
export interface SpanExportStats {
  /** Sampled spans that ended and were queued for export. */
  queued: number;
  /** Spans the collector accepted. */
  exported: number;
  /** Spans in batches the exporter gave up on (collector down, slow or refusing). */
  failed: number;
  /** Spans dropped because the queue was full: export never slows or fails a request. */
  dropped: number;
}

export interface Telemetry {
  /** False when tracing is off (OTEL_SDK_DISABLED=true): nothing is recorded or exported. */
  readonly enabled: boolean;
  stats(): SpanExportStats;
  /** Exports what is queued (waiting at most `timeoutMs`) and stops. */
  shutdown(timeoutMs?: number): Promise<void>;
}

export const TELEMETRY_OFF: Telemetry = {
  enabled: false,
  stats: () => ({ queued: 0, exported: 0, failed: 0, dropped: 0 }),
  shutdown: async () => {},
};

/** The instrumentations a process may ask for. */
export type InstrumentationName = 'http' | 'pg' | 'ioredis';

export interface TracingSdkOptions {
  /** `service.name`; OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over it. */
  serviceName: string;
  /** `service.version` (the process's package version); OTEL_RESOURCE_ATTRIBUTES wins over it. */
  serviceVersion?: string | undefined;
  /** An OTEL_TRACES_SAMPLER name; anything else means parentbased_always_on. */
  sampler: string | undefined;
  /** The traceidratio samplers' ratio (OTEL_TRACES_SAMPLER_ARG). */
  samplerRatio: number;
  /** Wraps the configured sampler (the gateway's debug header). */
  wrapSampler?: ((sampler: Sampler) => Sampler) | undefined;
  /** Spans queued or in an export at most; beyond it they are dropped and counted (OTEL_BSP_MAX_QUEUE_SIZE). */
  maxQueueSize: number;
  /** OTEL_BSP_SCHEDULE_DELAY */
  scheduleDelayMs: number;
  protocol: OtlpProtocol;
  propagators: readonly PropagatorName[];
  instrumentations: readonly InstrumentationName[];
  /** @default the SDK's AsyncLocalStorage manager */
  contextManager?: ContextManager | undefined;
  /** Tracers (by name) whose spans are never recorded. */
  silencedTracers?: readonly string[] | undefined;
}

/**
 * Starts the OpenTelemetry SDK (the parts @opentelemetry/sdk-node assembles, see sdk.ts): OTLP to
 * OTEL_EXPORTER_OTLP_ENDPOINT in the chosen encoding (the exporter reads the other OTEL_EXPORTER_OTLP_*
 * variables itself), the chosen propagators, the sampler, a bounded export queue, and the instrumentations
 * asked for. Call once per process, before the instrumented modules serve.
 */
export async function startTracingSdk(options: TracingSdkOptions): Promise<Telemetry> {
  const wanted = new Set(options.instrumentations);
  const [exporter, instrumentations] = await Promise.all([
    exporterFor(options.protocol),
    loadInstrumentations(wanted),
  ]);
  const sdk = loadSdk();
  const configured = samplerFor(sdk, options.sampler, options.samplerRatio);
  const max = Math.max(1, options.maxQueueSize);
  const stats: SpanExportStats = { queued: 0, exported: 0, failed: 0, dropped: 0 };
  const processor = new BoundedSpanProcessor(
    (wrapped) =>
      new sdk.trace.BatchSpanProcessor({
        exporter: wrapped,
        maxQueueSize: max,
        maxExportBatchSize: Math.min(512, max),
        scheduledDelayMillis: options.scheduleDelayMs,
      }),
    exporter,
    max,
    stats,
    sdk.core.ExportResultCode.SUCCESS,
  );
  // Metrics are prom-client's (GET /metrics) and logs go to stdout: no OTLP metric or log exporters.
  const shutdown = registerSdk(sdk, {
    serviceName: options.serviceName,
    serviceVersion: options.serviceVersion,
    sampler: options.wrapSampler ? options.wrapSampler(configured) : configured,
    spanProcessors: [processor],
    instrumentations,
    propagator: propagatorFor(sdk, options.propagators),
    contextManager: options.contextManager,
    silencedTracers: options.silencedTracers,
  });
  // The process imported node:http, pg and ioredis (as ESM, which require hooks do not see) before this
  // ran. Requiring them again lets each instrumentation patch the prototypes every importer shares.
  const require = createRequire(import.meta.url);
  if (wanted.has('http')) require('node:http');
  if (wanted.has('ioredis')) require('ioredis');
  if (wanted.has('pg')) {
    require('pg');
    createRequire(require.resolve('pg'))('pg-pool');
  }

  return {
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
}

async function loadInstrumentations(wanted: Set<InstrumentationName>) {
  const [http, pg, ioredis] = await Promise.all([
    wanted.has('http') ? import('@opentelemetry/instrumentation-http') : undefined,
    wanted.has('pg') ? import('@opentelemetry/instrumentation-pg') : undefined,
    wanted.has('ioredis') ? import('@opentelemetry/instrumentation-ioredis') : undefined,
  ]);
  return [
    ...(http
      ? [
          new http.HttpInstrumentation({
            // health checks are not traffic
            ignoreIncomingRequestHook: (req: IncomingMessage) => (req.url ?? '').startsWith('/health'),
            // a process of ours calls nobody over node:http but the collector, whose exporter suppresses
            // its own spans
            ignoreOutgoingRequestHook: () => true,
            // HTTP server conventions: `{method} {http.route}` with `http.route`, not a bare `POST`
            requestHook: (span, request) => {
              if (!('url' in request) || typeof request.url !== 'string') return;
              const route = routeOf(request.url);
              if (!route) return;
              span.setAttribute('http.route', route);
              span.updateName(`${request.method ?? 'GET'} ${route}`);
            },
          }),
        ]
      : []),
    // no root spans for statements outside a traced request (migrations, health `SELECT 1`); named by
    // the stable database conventions (`SELECT products.products`), not `pg.query:SELECT <db>`
    ...(pg
      ? [
          new pg.PgInstrumentation({
            requireParentSpan: true,
            requestHook: (span, { query, connection }) => {
              span.updateName(sqlSpanName(query.text, connection.database));
              const summary = query.text ? summarizeQuery(query.text) : undefined;
              if (summary) span.setAttribute('db.query.summary', summary);
            },
          }),
        ]
      : []),
    ...(ioredis ? [new ioredis.IORedisInstrumentation({ requireParentSpan: true })] : []),
  ];
}

/**
 * At most `max` spans queued or being exported; beyond that spans are dropped and counted. The batch
 * processor's own queue is as large, so it never drops unseen. With the collector down or slow, memory
 * stays flat and requests never wait on export.
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
