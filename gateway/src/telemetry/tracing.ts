import { createRequire } from 'node:module';
import type { Attributes, Context, Link, SpanKind } from '@opentelemetry/api';
import type {
  ReadableSpan,
  Sampler,
  SamplingResult,
  Span,
  SpanExporter,
  SpanProcessor,
} from '@opentelemetry/sdk-trace';
import type { GatewayConfig } from '../config/index.ts';
import { loadSdk, registerSdk, samplerFor } from './sdk.ts';
import { DEBUG_SAMPLING_ATTRIBUTE } from './spans.ts';

/** Spans handed to the exporter, and what became of them, since start. */
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

export interface Tracing {
  /** False when `telemetry.enabled` is off (OTEL_SDK_DISABLED=true): nothing is recorded or exported. */
  readonly enabled: boolean;
  stats(): SpanExportStats;
  /** Exports what is queued (bounded by `timeoutMs`) and stops. */
  shutdown(timeoutMs?: number): Promise<void>;
}

export type TracingOptions = GatewayConfig['telemetry'];

const disabled: Tracing = {
  enabled: false,
  stats: () => ({ queued: 0, exported: 0, failed: 0, dropped: 0 }),
  shutdown: async () => {},
};

/**
 * Starts the OpenTelemetry SDK for the gateway (the parts @opentelemetry/sdk-node assembles, see sdk.ts): OTLP over HTTP (protobuf) to OTEL_EXPORTER_OTLP_ENDPOINT
 * (the exporter reads the standard OTEL_EXPORTER_OTLP_* variables itself), W3C trace context and baggage,
 * the configured sampler, a bounded export queue, and the ioredis instrumentation. The gateway makes its
 * own server, fetch and attempt spans (no http or undici instrumentation: no double spans, and an
 * unsampled request allocates almost nothing). Call once per process, before serving.
 */
export async function startTracing(options: TracingOptions): Promise<Tracing> {
  if (!options.enabled) return disabled;
  // Loaded here, not at the top: tests and tools that build a gateway in-process never pay for the SDK.
  const [{ OTLPTraceExporter }, { IORedisInstrumentation }] = await Promise.all([
    import('@opentelemetry/exporter-trace-otlp-proto'),
    import('@opentelemetry/instrumentation-ioredis'),
  ]);
  const sdk = loadSdk();
  const configured = samplerFor(sdk, options.sampler, options.samplerRatio);
  const sampler = options.debugHeader ? new DebugSampler(configured) : configured;

  const stats: SpanExportStats = { queued: 0, exported: 0, failed: 0, dropped: 0 };
  const processor = new BoundedSpanProcessor(
    (wrapped) =>
      new sdk.trace.BatchSpanProcessor({
        exporter: wrapped,
        maxQueueSize: options.maxQueueSize,
        maxExportBatchSize: Math.min(512, options.maxQueueSize),
        scheduledDelayMillis: options.scheduleDelayMs,
      }),
    new OTLPTraceExporter(),
    options.maxQueueSize,
    stats,
    sdk.core.ExportResultCode.SUCCESS,
  );
  // Metrics are prom-client's (GET /metrics) and logs go to stdout: no OTLP metric or log exporters.
  const shutdown = registerSdk(sdk, {
    // our default; OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (the env detector) win
    serviceName: options.serviceName,
    sampler,
    spanProcessors: [processor],
    instrumentations: [new IORedisInstrumentation({ requireParentSpan: true })],
  });
  // ioredis was loaded (as ESM imports it, outside require) before the SDK started: requiring it again
  // lets the instrumentation's require hook patch its prototype, which every importer shares.
  createRequire(import.meta.url)('ioredis');

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

/**
 * Samples a span that starts with the debug attribute (the client sent the debug header), whatever the
 * configured sampler says; everything else goes to that sampler.
 */
export class DebugSampler implements Sampler {
  readonly #inner: Sampler;
  constructor(inner: Sampler) {
    this.#inner = inner;
  }
  shouldSample(
    context: Context,
    traceId: string,
    name: string,
    kind: SpanKind,
    attributes: Attributes,
    links: Link[],
  ): SamplingResult {
    // 2 = SamplingDecision.RECORD_AND_SAMPLED
    if (attributes[DEBUG_SAMPLING_ATTRIBUTE] === true) return { decision: 2 };
    return this.#inner.shouldSample(context, traceId, name, kind, attributes, links);
  }
  toString(): string {
    return `DebugSampler{${this.#inner.toString()}}`;
  }
}

/**
 * Bounds what export may hold: at most `max` spans are queued or in an export at once; past that, spans
 * are dropped and counted. The batch processor's own queue is as large, so it never drops unseen. With
 * the collector down or slow, memory stays flat and requests never wait on export.
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
    const counting: SpanExporter = {
      export: (spans, done) =>
        exporter.export(spans, (result) => {
          this.#held -= spans.length;
          if (result.code === success) stats.exported += spans.length;
          else stats.failed += spans.length;
          done(result);
        }),
      shutdown: () => exporter.shutdown(),
      forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
    };
    this.#inner = batch(counting);
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
