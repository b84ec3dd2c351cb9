// The gateway process: builds Apollo Server + Apollo Gateway over the replica pools, and serves HTTP.
export {
  type CreateGatewayOptions,
  createGateway,
  type Gateway,
  type GatewayContext,
  type Logger,
  type ReadinessReport,
} from './create-gateway.ts';
