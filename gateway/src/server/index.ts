// The gateway process: builds Apollo Server + Apollo Gateway over the replica pools, and serves HTTP.
export { type CreateGatewayOptions, createGateway, type Gateway } from './create-gateway.ts';
export {
  createGraphsGateway,
  type GraphsGateway,
  type GraphsGatewayOptions,
  type GraphsReadinessReport,
} from './graphs-gateway.ts';
export { serve } from './main.ts';
export type { GatewayContext, Logger, ReadinessReport } from './types.ts';
