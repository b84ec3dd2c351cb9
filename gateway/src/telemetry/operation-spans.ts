import {
  type Attributes,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  trace,
} from '@opentelemetry/api';
import { filterBaggage } from './baggage.ts';
import { bindRecord, failSpan, type RequestRecord, recordOf, tracer } from './spans.ts';

/**
 * Starts the span of a long-lived operation (a subscription) that has no HTTP request of its own to hang
 * under: a server span continuing the trace in `headers` (traceparent), bound to `owner` (the operation's
 * GraphQL context) so the plugins' spans (auth, rate limit, execute) nest under it. End it when the
 * operation ends. Of the caller's baggage, only the `baggageAllowKeys` entries are kept.
 */
export function startOperationSpan(
  owner: object,
  name: string,
  headers: Readonly<Record<string, string>>,
  attributes: Attributes,
  baggageAllowKeys: ReadonlySet<string> = new Set(),
): Span {
  // the client's baggage filtered as over HTTP (`telemetry.baggage.allowKeys`)
  const parent = filterBaggage(propagation.extract(ROOT_CONTEXT, headers), baggageAllowKeys);
  const span = tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, parent);
  const record: RequestRecord = { span, context: trace.setSpan(parent, span) };
  bindRecord(owner, record);
  return span;
}

/**
 * Runs one event of a long-lived operation in a span of its own: the root of a trace of its own, linked
 * to the operation's span (a subscription lives far longer than a trace should). The event's subgraph
 * fetches hang under it.
 */
export async function withEventSpan<T>(
  owner: object,
  name: string,
  fn: () => Promise<T>,
  attributes?: Attributes,
): Promise<T> {
  const record = recordOf(owner);
  const operation = record?.span?.spanContext();
  const span = tracer.startSpan(
    name,
    { attributes, links: operation ? [{ context: operation }] : [] },
    ROOT_CONTEXT,
  );
  const active = trace.setSpan(ROOT_CONTEXT, span);
  // set even when unsampled: the fetches must not hang under the (ended) span of the subscription's start
  if (record) record.execution = active;
  if (!span.isRecording()) return fn();
  try {
    return await context.with(active, fn);
  } catch (error) {
    failSpan(span, error);
    throw error;
  } finally {
    span.end();
  }
}
