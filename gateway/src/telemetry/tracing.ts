import { fileURLToPath } from 'node:url';
import type { Attributes, Context, Link, SpanKind } from '@opentelemetry/api';
import type { Sampler, SamplingResult } from '@opentelemetry/sdk-trace';
import { packageVersionOf, startTracingSdk, TELEMETRY_OFF, type Telemetry } from '@tollgate/kit/tracing';
import { SyncContextManager } from './context-manager.ts';
import { DEBUG_SAMPLING_ATTRIBUTE } from './spans.ts';

export type { SpanExportStats } from '@tollgate/kit/tracing';

export type Tracing = Telemetry;

type SdkOptions = Parameters<typeof startTracingSdk>[0];

/**
 * What tracing needs of the config's `telemetry` section, declared here so telemetry/ does not import
 * config/ (the config schema takes its pool defaults from pool/, which traces through telemetry/).
 */
export interface TracingOptions
  extends Pick<
    SdkOptions,
    | 'serviceName'
    | 'sampler'
    | 'samplerRatio'
    | 'maxQueueSize'
    | 'scheduleDelayMs'
    | 'protocol'
    | 'propagators'
  > {
  enabled: boolean;
  /** A request header that forces sampling of its trace; empty for none. */
  debugHeader?: string | undefined;
}

/** The tracer name @apollo/gateway 2.x uses (utilities/opentelemetry.js). */
const APOLLO_GATEWAY_TRACER = 'apollo/gateway-js';

/**
 * Starts tracing for the gateway through the bootstrap every subgraph uses (`@tollgate/kit/tracing`),
 * from `telemetry.*` of the config (which the OTEL_* variables fill): OTLP to
 * OTEL_EXPORTER_OTLP_ENDPOINT, the configured propagators, sampler and bounded export queue, and the
 * ioredis instrumentation. The gateway makes its own server, fetch and attempt spans (no http or undici
 * instrumentation: no double spans, and an unsampled request allocates almost nothing), and passes trace
 * contexts explicitly, so it runs a synchronous context manager instead of the AsyncLocalStorage one
 * (context-manager.ts says why). Call once per process, before serving.
 */
export async function startTracing(options: TracingOptions): Promise<Tracing> {
  if (!options.enabled) return TELEMETRY_OFF;
  return startTracingSdk({
    // our default; OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (the env detector) win
    serviceName: options.serviceName,
    // @tollgate/gateway's version; OTEL_RESOURCE_ATTRIBUTES=service.version=… wins
    serviceVersion: packageVersionOf(fileURLToPath(import.meta.url)),
    sampler: options.sampler,
    samplerRatio: options.samplerRatio,
    wrapSampler: options.debugHeader ? (configured) => new DebugSampler(configured) : undefined,
    maxQueueSize: options.maxQueueSize,
    scheduleDelayMs: options.scheduleDelayMs,
    protocol: options.protocol,
    propagators: options.propagators,
    instrumentations: ['ioredis'],
    contextManager: new SyncContextManager(),
    // @apollo/gateway's own spans (its executor runs only for introspection, @defer and subscriptions
    // here) would start from the active context after its awaits, which this manager does not carry:
    // they would be stray root traces. Our execute, fetch and attempt spans cover that work.
    silencedTracers: [APOLLO_GATEWAY_TRACER],
  });
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
