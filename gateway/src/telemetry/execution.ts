import type { GatewayExecutor, GatewayInterface } from '@apollo/server-gateway-interface';
import { withSpan } from './spans.ts';

/**
 * Puts each operation's execution (planning, or the cached plan, and every subgraph fetch) in a
 * `gateway.execute` span, whichever executor runs it, so the fetch spans hang under it. Costs nothing
 * for an unsampled request.
 */
export function traceExecution(gateway: GatewayInterface): GatewayInterface {
  const wrap =
    (execute: GatewayExecutor): GatewayExecutor =>
    (rc) =>
      withSpan('gateway.execute', () => execute(rc));
  return {
    async load(options) {
      const loaded = await gateway.load(options);
      return { ...loaded, executor: loaded.executor && wrap(loaded.executor) };
    },
    onSchemaLoadOrUpdate: (callback) => gateway.onSchemaLoadOrUpdate(callback),
    stop: () => gateway.stop(),
  };
}
