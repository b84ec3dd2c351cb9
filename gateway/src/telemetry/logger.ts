import { type Logger, traceFields } from '@tollgate/kit/log';
import { type DestinationStream, multistream, pino } from 'pino';

/** The shared `Logger` (`@tollgate/kit/log`), plus the flush the gateway's buffered stdout needs. */
export interface GatewayLogger extends Logger {
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
