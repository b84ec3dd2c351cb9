import {
  isPretty,
  type LogFormat,
  type Logger,
  type LogLevel,
  pinoOptions,
  prettyDestination,
} from '@tollgate/kit/log';
import { type DestinationStream, multistream, pino } from 'pino';

/** The shared `Logger` (`@tollgate/kit/log`), plus debug lines and the flush the buffered stdout needs. */
export interface GatewayLogger extends Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  /** Writes out buffered lines (call before process.exit). */
  flush(): void;
}

export interface LoggerOptions {
  /** Least severe level written (`log.level`). @default 'info' */
  level?: LogLevel;
  /** `log.format`: `auto` is pretty when stdout is a terminal or in development. @default 'auto' */
  format?: LogFormat;
  /** `auto` is pretty in development (NODE_ENV=development). @default false */
  development?: boolean;
  /** Whether stdout is a terminal, for `auto`. @default process.stdout.isTTY */
  isTTY?: boolean;
  /** Where info lines go. @default stdout */
  out?: DestinationStream;
  /** Where warn and error lines go. @default stderr */
  err?: DestinationStream;
}

/**
 * The gateway's log (pino): one JSON object per line with `time`, `level`, `msg`, the fields, and the
 * active trace and span ids; or the same lines made readable (pino-pretty) on a terminal. Info and
 * below go to stdout, warnings and errors to stderr.
 */
export function createLogger(options: LoggerOptions = {}): GatewayLogger {
  const pretty = isPretty(options.format ?? 'auto', {
    isTTY: options.isTTY ?? process.stdout.isTTY === true,
    development: options.development ?? false,
  });
  // JSON stdout is buffered, and bounded: a stdout nobody drains drops lines past 16 MB instead of growing
  // the heap. Lines go out in writes of 4 KB or every 200 ms, whichever comes first (one write per access
  // line was ~2% of a small request's CPU), and what is left at exit is written then. Pretty output is for
  // a person at a terminal: written at once, so it interleaves rightly.
  const out =
    options.out ??
    (pretty
      ? pino.destination({ dest: 1, sync: true })
      : pino.destination({
          dest: 1,
          sync: false,
          minLength: 4096,
          periodicFlush: 200,
          maxLength: 16 * 1024 * 1024,
        }));
  if (!options.out && !pretty) flushAtExit(out);
  const err = options.err ?? pino.destination({ dest: 2, sync: true });
  const colorize = (stream: { isTTY?: boolean }) => (options.out || options.err ? false : stream.isTTY);
  const log = pino(
    pinoOptions(options.level ?? 'info'),
    multistream(
      [
        // 'trace' here, so debug and trace lines pass when log.level lets them; pino filters by its level.
        {
          level: 'trace',
          stream: pretty ? prettyDestination(out, { colorize: colorize(process.stdout) }) : out,
        },
        {
          level: 'warn',
          stream: pretty ? prettyDestination(err, { colorize: colorize(process.stderr) }) : err,
        },
      ],
      { dedupe: true },
    ),
  );
  return {
    debug: (message, fields) => log.debug(fields ?? {}, message),
    info: (message, fields) => log.info(fields ?? {}, message),
    warn: (message, fields) => log.warn(fields ?? {}, message),
    error: (message, fields) => log.error(fields ?? {}, message),
    flush: () => flushOut(out),
  };
}

const atExit = new Set<DestinationStream>();

/** One `exit` listener for every buffered stdout this process made (tests make many loggers). */
function flushAtExit(out: DestinationStream): void {
  if (atExit.size === 0) process.once('exit', () => atExit.forEach(flushOut));
  atExit.add(out);
}

function flushOut(out: DestinationStream): void {
  try {
    (out as { flushSync?: () => void }).flushSync?.();
  } catch {
    // nothing buffered, or stdout already gone
  }
}
