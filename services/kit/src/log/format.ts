import { createRequire } from 'node:module';
import type { DestinationStream, LoggerOptions } from 'pino';
import { pino } from 'pino';
import { traceFields } from './logger.ts';

/** Log levels, least severe first; `silent` writes nothing. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
/** `auto`: pretty on a terminal or in development, JSON otherwise. */
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Whether a log writes human-readable lines: asked for, or `auto` on a terminal or in development. */
export function isPretty(format: LogFormat, where: { isTTY: boolean; development: boolean }): boolean {
  return format === 'pretty' || (format === 'auto' && (where.isTTY || where.development));
}

/** The pino options of every Tollgate log: `time` (ISO), `level` (a label), `msg`, and the trace ids. */
export function pinoOptions(level: LogLevel, base?: Record<string, unknown>): LoggerOptions {
  return {
    level,
    base: base ?? undefined,
    messageKey: 'msg',
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    mixin: traceFields,
  };
}

type Prettify = (line: string) => string;
let factory: ((options: Record<string, unknown>) => Prettify) | undefined;

/**
 * A destination that turns each JSON line into a readable one (pino-pretty's formatter) and writes it to
 * `to` in the same call: no worker thread and no stream pipeline, so lines keep their order with the
 * process's other output and nothing is left unwritten at process.exit. pino-pretty is loaded only here,
 * so JSON-only processes never pay for it.
 */
export function prettyDestination(
  to: { write(chunk: string): unknown },
  options: { colorize?: boolean } = {},
): DestinationStream {
  factory ??= (createRequire(import.meta.url)('pino-pretty') as { prettyFactory: typeof factory })
    .prettyFactory;
  const prettify = factory!({
    ...(options.colorize === undefined ? {} : { colorize: options.colorize }),
    translateTime: 'SYS:HH:MM:ss.l',
    // The whole line's fields on one line: an access log entry would otherwise take ten.
    singleLine: true,
    ignore: 'trace_flags',
  });
  return { write: (chunk: string) => to.write(prettify(chunk)) };
}
