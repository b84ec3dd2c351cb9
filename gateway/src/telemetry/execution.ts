import type { GatewayExecutor, GatewayInterface } from '@apollo/server-gateway-interface';
import { wrapExecutor } from '../executor-wrap/index.ts';
import { outcomeOf, recordOf, setAnswerStatus, withSpan } from './spans.ts';

/**
 * Puts each operation's execution (planning, or the cached plan, and every subgraph fetch) in a
 * `gateway.execute` span, whichever executor runs it, so the fetch spans hang under it; the span is an
 * ERROR when the result has errors and no data. Costs nothing for an unsampled request.
 */
export function traceExecution(gateway: GatewayInterface): GatewayInterface {
  const traced =
    (execute: GatewayExecutor): GatewayExecutor =>
    (rc) => {
      const record = recordOf(rc.context);
      return withSpan(
        'gateway.execute',
        (span, spanContext) => {
          // the fetches of this operation hang under the execute span (data-source.ts reads it)
          if (record && spanContext) record.execution = spanContext;
          if (!span) return execute(rc);
          // ERROR when the operation failed as a whole (no data), as the request span
          return execute(rc).then((result) => {
            setAnswerStatus(span, undefined, outcomeOf(result));
            return result;
          });
        },
        undefined,
        record?.context,
      );
    };
  return wrapExecutor(gateway, traced);
}
