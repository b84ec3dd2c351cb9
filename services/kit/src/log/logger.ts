import { context, isSpanContextValid, trace } from '@opentelemetry/api';

/** Structured fields of one log line (serialized as JSON beside `msg`). */
export type LogFields = Record<string, unknown>;

/**
 * What the gateway and every subgraph log through: a message and structured fields. The gateway's
 * `createLogger` and the kit's `createSubgraphLogger` return one.
 */
export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/**
 * The one shape of a `log` callback a component takes in its deps: a message and fields, so an error
 * travels as a field (`{ error: err.message }`) and `logger.warn` or `logger.error` can be passed as is.
 */
export type LogFn = (message: string, fields: LogFields) => void;

/** trace_id, span_id and trace_flags of the active span, so a log line leads to its trace. */
export function traceFields(): Record<string, string> {
  const span = trace.getSpan(context.active());
  if (!span) return {};
  const sc = span.spanContext();
  if (!isSpanContextValid(sc)) return {};
  return { trace_id: sc.traceId, span_id: sc.spanId, trace_flags: sc.traceFlags & 1 ? '01' : '00' };
}
