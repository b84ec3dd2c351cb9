import { type Context, context, type Span, SpanStatusCode, trace } from '@opentelemetry/api';

/** The kit's tracer; a no-op until `startTelemetry` registers a provider. */
export const tracer = trace.getTracer('@tollgate/kit');

/** The span of `ctx` when it records (a sampled request); undefined otherwise. */
export function recordingSpanIn(ctx: Context): Span | undefined {
  const span = trace.getSpan(ctx);
  return span?.isRecording() ? span : undefined;
}

/** The active context (captured where work is scheduled, to be resumed where it runs). */
export function activeContext(): Context {
  return context.active();
}

/**
 * Runs `fn` in a child span of `parent`'s span when that one records; otherwise runs it as is, without
 * allocating a span. The span is ended when `fn` settles, and marked failed when it throws.
 */
export async function inChildSpan<T>(
  parent: Context,
  name: string,
  fn: (span: Span | undefined) => Promise<T>,
): Promise<T> {
  if (!recordingSpanIn(parent)) return fn(undefined);
  const span = tracer.startSpan(name, {}, parent);
  try {
    return await context.with(trace.setSpan(parent, span), fn, undefined, span);
  } catch (error) {
    if (error instanceof Error) span.recordException(error);
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : String(error),
    });
    throw error;
  } finally {
    span.end();
  }
}
