import { createRequire } from 'node:module';
import {
  type Attributes,
  context,
  ProxyTracerProvider,
  propagation,
  type TextMapPropagator,
  trace,
} from '@opentelemetry/api';
import type * as Instrumentation from '@opentelemetry/instrumentation';
import type * as SdkTrace from '@opentelemetry/sdk-trace';
import { SyncContextManager } from './context-manager.ts';

// The parts of @opentelemetry/core and /resources used here, as sdk-node 0.223 has them (2.x; other
// packages in the tree pull in 1.x copies, whose types these are not).
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

/** The SDK's building blocks, in the versions @opentelemetry/sdk-node 0.223 depends on. */
export interface SdkParts {
  trace: typeof SdkTrace;
  core: Core;
  /** Registers instrumentations (they patch modules as they are required). */
  registerInstrumentations: typeof Instrumentation.registerInstrumentations;
}

export interface SdkSetup {
  serviceName: string;
  sampler: SdkTrace.Sampler;
  spanProcessors: SdkTrace.SpanProcessor[];
  instrumentations: Instrumentation.Instrumentation[];
}

/** The tracer name @apollo/gateway 2.x uses (utilities/opentelemetry.js). */
const APOLLO_GATEWAY_TRACER = 'apollo/gateway-js';

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
 * What `NodeSDK.start()` does for traces: instrumentations, a context manager (ours, not its AsyncLocalStorage one), the W3C
 * trace-context and baggage propagators, the resource (our service name under OTEL_SERVICE_NAME and
 * OTEL_RESOURCE_ATTRIBUTES, plus host and process), and the tracer provider. Returns its shutdown.
 */
export function registerSdk(parts: SdkParts, setup: SdkSetup): () => Promise<void> {
  const load = fromSdkNode();
  const resources = load('@opentelemetry/resources') as Resources;
  parts.registerInstrumentations({ instrumentations: setup.instrumentations });
  // Not the SDK's AsyncLocalStorage manager: the gateway passes trace contexts explicitly
  // (context-manager.ts says why).
  context.setGlobalContextManager(new SyncContextManager().enable());
  propagation.setGlobalPropagator(
    new parts.core.CompositePropagator({
      propagators: [new parts.core.W3CTraceContextPropagator(), new parts.core.W3CBaggagePropagator()],
    }),
  );
  const resource = resources
    .defaultResource()
    .merge(resources.resourceFromAttributes({ 'service.name': setup.serviceName }))
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
  // @apollo/gateway's own spans (its executor runs only for introspection, @defer and subscriptions
  // here) would start from the active context after its awaits, which this manager does not carry: they
  // would be stray root traces. Our execute, fetch and attempt spans cover that work.
  const noop = new ProxyTracerProvider().getTracer('noop');
  trace.setGlobalTracerProvider({
    getTracer: (name, version, options) =>
      name === APOLLO_GATEWAY_TRACER ? noop : provider.getTracer(name, version, options),
  });
  return () => provider.shutdown();
}

const KNOWN_SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
];

/** The sampler OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG name, as the SDK reads them. */
export function samplerFor(parts: SdkParts, name: string | undefined, ratio: number): SdkTrace.Sampler {
  const t = parts.trace;
  const given = (name ?? '').trim().toLowerCase();
  const which = KNOWN_SAMPLERS.includes(given) ? given : 'parentbased_always_on';
  const root = which.endsWith('always_off')
    ? new t.AlwaysOffSampler()
    : which.endsWith('traceidratio')
      ? new t.TraceIdRatioBasedSampler(ratio)
      : new t.AlwaysOnSampler();
  return which.startsWith('parentbased_') ? new t.ParentBasedSampler({ root }) : root;
}
