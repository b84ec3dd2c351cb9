import { context, isSpanContextValid, trace } from '@opentelemetry/api';
import { pino } from 'pino';

/** A subgraph's log: JSON lines on stderr (stdout carries the ready line), with trace and span ids. */
export interface SubgraphLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

function traceFields(): Record<string, string> {
  const span = trace.getSpan(context.active());
  if (!span) return {};
  const sc = span.spanContext();
  if (!isSpanContextValid(sc)) return {};
  return { trace_id: sc.traceId, span_id: sc.spanId, trace_flags: sc.traceFlags & 1 ? '01' : '00' };
}

/** Structured JSON logs, each line with the active trace and span ids (and `service` when given). */
export function createSubgraphLogger(service?: string): SubgraphLogger {
  const log = pino(
    {
      base: service ? { service } : undefined,
      messageKey: 'msg',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin: traceFields,
    },
    pino.destination({ dest: 2, sync: true }),
  );
  return {
    info: (message, fields) => log.info(fields ?? {}, message),
    warn: (message, fields) => log.warn(fields ?? {}, message),
    error: (message, fields) => log.error(fields ?? {}, message),
  };
}
