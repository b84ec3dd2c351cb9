import { pino } from 'pino';
import { type Logger, traceFields } from '../log/index.ts';

/**
 * A subgraph's log: structured JSON lines on stderr (stdout carries the ready line), each with the active
 * trace and span ids (and `service` when given).
 */
export function createSubgraphLogger(service?: string): Logger {
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
