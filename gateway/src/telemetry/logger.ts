import { context, isSpanContextValid, trace } from '@opentelemetry/api';
import { type DestinationStream, multistream, pino } from 'pino';

/** What the gateway logs through: a message and structured fields. */
export interface GatewayLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** Writes out buffered lines (call before process.exit). */
  flush(): void;
}

export interface LoggerOptions {
  /** @default 'info' */
  level?: 'debug' | 'info' | 'warn' | 'error';
  /** Where info lines go. @default stdout */
  out?: DestinationStream;
  /** Where warn and error lines go. @default stderr */
  err?: DestinationStream;
}

/** trace_id, span_id and trace_flags of the active span, so a log line leads to its trace. */
export function traceFields(): Record<string, string> {
  const span = trace.getSpan(context.active());
  if (!span) return {};
  const sc = span.spanContext();
  if (!isSpanContextValid(sc)) return {};
  return { trace_id: sc.traceId, span_id: sc.spanId, trace_flags: sc.traceFlags & 1 ? '01' : '00' };
}

/**
 * Structured JSON logs (pino): one object per line with `time`, `level`, `msg`, the fields, and the
 * active trace and span ids. Info goes to stdout, warnings and errors to stderr.
 */
export function createLogger(options: LoggerOptions = {}): GatewayLogger {
  // Buffered, and bounded: a stdout nobody drains drops lines past 16 MB instead of growing the heap.
  const out = options.out ?? pino.destination({ dest: 1, sync: false, maxLength: 16 * 1024 * 1024 });
  const err = options.err ?? pino.destination({ dest: 2, sync: true });
  const log = pino(
    {
      level: options.level ?? 'info',
      base: undefined,
      messageKey: 'msg',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin: traceFields,
    },
    multistream(
      [
        { level: 'info', stream: out },
        { level: 'warn', stream: err },
      ],
      { dedupe: true },
    ),
  );
  return {
    info: (message, fields) => log.info(fields ?? {}, message),
    warn: (message, fields) => log.warn(fields ?? {}, message),
    error: (message, fields) => log.error(fields ?? {}, message),
    flush: () => {
      try {
        (out as { flushSync?: () => void }).flushSync?.();
      } catch {
        // nothing buffered, or stdout already gone
      }
    },
  };
}
