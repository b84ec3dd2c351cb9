import { createRequire } from 'node:module';
import {
  type Attributes,
  type ContextManager,
  context,
  ProxyTracerProvider,
  propagation,
  type TextMapPropagator,
  trace,
} from '@opentelemetry/api';
import type * as ContextAsyncHooks from '@opentelemetry/context-async-hooks';
import type * as Instrumentation from '@opentelemetry/instrumentation';
import type * as SdkTrace from '@opentelemetry/sdk-trace';

// The parts of @opentelemetry/core, /resources and the propagator packages used here, as sdk-node 0.223
// has them (2.x; other packages in the tree pull in 1.x copies, whose types these are not).
interface Resource {
  merge(other: Resource | null): Resource;
}
interface Resources {
  defaultResource(): Resource;
  resourceFromAttributes(attributes: Attributes): Resource;
  detectResources(config: { detectors: unknown[] }): Resource;
  envDetector: unknown;
  hostDetector: unknown;
  processDetector: unknown;
}
interface Core {
  CompositePropagator: new (config: { propagators: TextMapPropagator[] }) => TextMapPropagator;
  W3CTraceContextPropagator: new () => TextMapPropagator;
  W3CBaggagePropagator: new () => TextMapPropagator;
  ExportResultCode: { SUCCESS: number };
}
interface B3 {
  B3Propagator: new (config?: { injectEncoding?: number }) => TextMapPropagator;
  B3InjectEncoding: { SINGLE_HEADER: number; MULTI_HEADER: number };
}
interface Jaeger {
  JaegerPropagator: new () => TextMapPropagator;
}
type ExporterModule = { OTLPTraceExporter: new () => SdkTrace.SpanExporter };

/** The SDK's building blocks, in the versions @opentelemetry/sdk-node 0.223 depends on. */
export interface SdkParts {
  trace: typeof SdkTrace;
  core: Core;
  /** Registers instrumentations (they patch modules as they are required). */
  registerInstrumentations: typeof Instrumentation.registerInstrumentations;
}

export interface SdkSetup {
  serviceName: string;
  serviceVersion?: string | undefined;
  sampler: SdkTrace.Sampler;
  spanProcessors: SdkTrace.SpanProcessor[];
  instrumentations: Instrumentation.Instrumentation[];
  propagator: TextMapPropagator;
  /** @default the SDK's AsyncLocalStorage manager */
  contextManager?: ContextManager | undefined;
  /** Tracers (by name) whose spans are not recorded at all. */
  silencedTracers?: readonly string[] | undefined;
}

const fromSdkNode = () => createRequire(createRequire(import.meta.url).resolve('@opentelemetry/sdk-node'));

/**
 * Loads the SDK's parts from @opentelemetry/sdk-node's own dependency tree, not through its entry point:
 * that one also loads the gRPC, metrics, logs, Zipkin, Prometheus and cloud-detector packages (2,300
 * modules, 1.2 s of CPU per process against 0.4 s), which a process exporting traces over OTLP/HTTP never
 * uses. What is assembled in `registerSdk` is what `NodeSDK.start()` assembles.
 */
export function loadSdk(): SdkParts {
  const load = fromSdkNode();
  return {
    trace: load('@opentelemetry/sdk-trace') as typeof SdkTrace,
    core: load('@opentelemetry/core') as Core,
    registerInstrumentations: (load('@opentelemetry/instrumentation') as typeof Instrumentation)
      .registerInstrumentations,
  };
}

/**
 * What `NodeSDK.start()` does for traces: instrumentations, a context manager, the propagators, the
 * resource (our service name and version under OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, plus host and process),
 * and the tracer provider. Returns its shutdown.
 */
export function registerSdk(parts: SdkParts, setup: SdkSetup): () => Promise<void> {
  const load = fromSdkNode();
  const resources = load('@opentelemetry/resources') as Resources;
  parts.registerInstrumentations({ instrumentations: setup.instrumentations });
  const manager =
    setup.contextManager ??
    new (
      load('@opentelemetry/context-async-hooks') as typeof ContextAsyncHooks
    ).AsyncLocalStorageContextManager();
  context.setGlobalContextManager(manager.enable());
  propagation.setGlobalPropagator(setup.propagator);
  const resource = resources
    .defaultResource()
    .merge(
      resources.resourceFromAttributes({
        'service.name': setup.serviceName,
        ...(setup.serviceVersion ? { 'service.version': setup.serviceVersion } : {}),
      }),
    )
    .merge(
      resources.detectResources({
        detectors: [resources.envDetector, resources.processDetector, resources.hostDetector],
      }),
    );
  const provider = new parts.trace.TracerProvider({
    sampler: setup.sampler,
    resource: resource as never,
    spanProcessors: setup.spanProcessors,
  });
  const silenced = setup.silencedTracers ?? [];
  if (silenced.length === 0) trace.setGlobalTracerProvider(provider);
  else {
    const noop = new ProxyTracerProvider().getTracer('noop');
    trace.setGlobalTracerProvider({
      getTracer: (name, version, options) =>
        silenced.includes(name) ? noop : provider.getTracer(name, version, options),
    });
  }
  return () => provider.shutdown();
}

export const SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;

/** The sampler OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG name, as the SDK reads them. */
export function samplerFor(parts: SdkParts, name: string | undefined, ratio: number): SdkTrace.Sampler {
  const t = parts.trace;
  const given = (name ?? '').trim().toLowerCase();
  const which = (SAMPLERS as readonly string[]).includes(given) ? given : 'parentbased_always_on';
  const root = which.endsWith('always_off')
    ? new t.AlwaysOffSampler()
    : which.endsWith('traceidratio')
      ? new t.TraceIdRatioBasedSampler(ratio)
      : new t.AlwaysOnSampler();
  return which.startsWith('parentbased_') ? new t.ParentBasedSampler({ root }) : root;
}

/** The propagators OTEL_PROPAGATORS may name, as the SDK knows them. */
export const PROPAGATORS = ['tracecontext', 'baggage', 'b3', 'b3multi', 'jaeger', 'none'] as const;
export type PropagatorName = (typeof PROPAGATORS)[number];

/** The OTLP encodings OTEL_EXPORTER_OTLP_PROTOCOL may name. */
export const PROTOCOLS = ['http/protobuf', 'http/json', 'grpc'] as const;
export type OtlpProtocol = (typeof PROTOCOLS)[number];

/** Thrown for an OTEL_* value this bootstrap does not know; the message names the variable and the value. */
export class TelemetrySettingError extends Error {}

/**
 * `OTEL_PROPAGATORS` as a list (comma-separated, `none` alone turns propagation off). Unset or empty:
 * `tracecontext,baggage`, the SDK's default. An unknown name throws, naming it.
 */
export function parsePropagators(value: string | undefined, variable = 'OTEL_PROPAGATORS'): PropagatorName[] {
  const names = (value ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  if (names.length === 0) return ['tracecontext', 'baggage'];
  for (const n of names)
    if (!(PROPAGATORS as readonly string[]).includes(n))
      throw new TelemetrySettingError(
        `${variable} names "${n}", which is not one of ${PROPAGATORS.join(', ')}`,
      );
  return [...new Set(names as PropagatorName[])];
}

/**
 * `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`, else `OTEL_EXPORTER_OTLP_PROTOCOL`, else `http/protobuf`. An
 * unknown value throws, naming the variable.
 */
export function parseProtocol(env: Record<string, string | undefined>): OtlpProtocol {
  for (const variable of ['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL']) {
    const value = env[variable]?.trim().toLowerCase();
    if (!value) continue;
    if ((PROTOCOLS as readonly string[]).includes(value)) return value as OtlpProtocol;
    throw new TelemetrySettingError(
      `${variable} is "${env[variable]}", which is not one of ${PROTOCOLS.join(', ')}`,
    );
  }
  return 'http/protobuf';
}

/** The global propagator for these names, in their order (extract: the last one that finds a context wins). */
export function propagatorFor(parts: SdkParts, names: readonly PropagatorName[]): TextMapPropagator {
  const load = fromSdkNode();
  const propagators: TextMapPropagator[] = [];
  for (const name of names) {
    if (name === 'tracecontext') propagators.push(new parts.core.W3CTraceContextPropagator());
    else if (name === 'baggage') propagators.push(new parts.core.W3CBaggagePropagator());
    else if (name === 'b3' || name === 'b3multi') {
      const b3 = load('@opentelemetry/propagator-b3') as B3;
      propagators.push(
        new b3.B3Propagator({
          injectEncoding:
            name === 'b3' ? b3.B3InjectEncoding.SINGLE_HEADER : b3.B3InjectEncoding.MULTI_HEADER,
        }),
      );
    } else if (name === 'jaeger')
      propagators.push(new (load('@opentelemetry/propagator-jaeger') as Jaeger).JaegerPropagator());
  }
  return new parts.core.CompositePropagator({ propagators });
}

/**
 * The OTLP trace exporter for `protocol`; it reads OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT, _HEADERS, _TIMEOUT
 * and _COMPRESSION itself. Only the one asked for is loaded (gRPC pulls in @grpc/grpc-js).
 */
export async function exporterFor(protocol: OtlpProtocol): Promise<SdkTrace.SpanExporter> {
  const load = fromSdkNode();
  const module =
    protocol === 'http/protobuf'
      ? ((await import('@opentelemetry/exporter-trace-otlp-proto')) as unknown as ExporterModule)
      : protocol === 'http/json'
        ? (load('@opentelemetry/exporter-trace-otlp-http') as ExporterModule)
        : (load('@opentelemetry/exporter-trace-otlp-grpc') as ExporterModule);
  return new module.OTLPTraceExporter();
}
