import type { GatewayExecutor, GatewayInterface } from '@apollo/server-gateway-interface';

/**
 * The gateway with its executor replaced by `wrap(executor)` on every load; schema updates and `stop` go
 * to the gateway inside. The fast executor, authorization and execution tracing each decorate the
 * executor this way (the order they stack in is written down once, in server/pipeline.ts).
 */
export function wrapExecutor(
  gateway: GatewayInterface,
  wrap: (execute: GatewayExecutor) => GatewayExecutor,
): GatewayInterface {
  return {
    async load(options) {
      const loaded = await gateway.load(options);
      return { ...loaded, executor: loaded.executor && wrap(loaded.executor) };
    },
    onSchemaLoadOrUpdate: (callback) => gateway.onSchemaLoadOrUpdate(callback),
    stop: () => gateway.stop(),
  };
}
