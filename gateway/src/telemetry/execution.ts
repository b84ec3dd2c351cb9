import type { GatewayExecutor, GatewayInterface } from '@apollo/server-gateway-interface';
import { wrapExecutor } from '../executor-wrap/index.ts';
import { recordOf, withSpan } from './spans.ts';

/**
 * Puts each operation's execution (planning, or the cached plan, and every subgraph fetch) in a
 * `gateway.execute` span, whichever executor runs it, so the fetch spans hang under it. Costs nothing
 * for an unsampled request.
 */
export function traceExecution(gateway: GatewayInterface): GatewayInterface {
  const traced =
    (execute: GatewayExecutor): GatewayExecutor =>
    (rc) => {
      const record = recordOf(rc.context);
      return withSpan(
        'gateway.execute',
        (_span, spanContext) => {
          // the fetches of this operation hang under the execute span (data-source.ts reads it)
          if (record && spanContext) record.execution = spanContext;
          return execute(rc);
        },
        undefined,
        record?.context,
      );
    };
  return wrapExecutor(gateway, traced);
}
