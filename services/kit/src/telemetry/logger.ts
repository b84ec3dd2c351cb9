import { pino } from 'pino';
import {
  isPretty,
  LOG_FORMATS,
  LOG_LEVELS,
  type LogFormat,
  type Logger,
  type LogLevel,
  pinoOptions,
  prettyDestination,
} from '../log/index.ts';

/** The variables a subgraph's log follows (the gateway's `log.level` / `log.format`, by another name). */
export interface LogEnv {
  /** trace, debug, info, warn, error, fatal or silent. @default 'info' */
  LOG_LEVEL?: string;
  /** `json`, `pretty`, or `auto` (pretty when stderr is a terminal or NODE_ENV=development). @default 'auto' */
  LOG_FORMAT?: string;
  NODE_ENV?: string;
}

export interface SubgraphLoggerOptions {
  /** Where lines go. @default stderr */
  out?: { write(chunk: string): unknown };
  /** Whether `out` is a terminal, for LOG_FORMAT=auto. @default process.stderr.isTTY */
  isTTY?: boolean;
}

function pick<T extends string>(
  name: string,
  value: string | undefined,
  allowed: readonly T[],
  fallback: T,
): T {
  const v = value?.trim().toLowerCase();
  if (!v) return fallback;
  if ((allowed as readonly string[]).includes(v)) return v as T;
  console.error(`${name}=${value} is not one of ${allowed.join(', ')}; using ${fallback}`);
  return fallback;
}

/**
 * A subgraph's log: JSON lines on stderr (stdout carries the ready line), each with the active trace and
 * span ids (and `service` when given); readable lines (pino-pretty) on a terminal or when LOG_FORMAT=pretty.
 */
export function createSubgraphLogger(
  service?: string,
  env: LogEnv = process.env,
  options: SubgraphLoggerOptions = {},
): Logger {
  const level = pick<LogLevel>('LOG_LEVEL', env.LOG_LEVEL, LOG_LEVELS, 'info');
  const format = pick<LogFormat>('LOG_FORMAT', env.LOG_FORMAT, LOG_FORMATS, 'auto');
  const isTTY = options.isTTY ?? (options.out ? false : process.stderr.isTTY === true);
  const out = options.out ?? pino.destination({ dest: 2, sync: true });
  const destination = isPretty(format, { isTTY, development: env.NODE_ENV === 'development' })
    ? prettyDestination(out, options.out ? { colorize: false } : {})
    : out;
  const log = pino(
    pinoOptions(level, service ? { service } : undefined),
    destination as pino.DestinationStream,
  );
  return {
    info: (message, fields) => log.info(fields ?? {}, message),
    warn: (message, fields) => log.warn(fields ?? {}, message),
    error: (message, fields) => log.error(fields ?? {}, message),
  };
}
