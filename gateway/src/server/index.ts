// The gateway process: builds Apollo Server + Apollo Gateway over the replica pools, and serves HTTP.
export { createGateway, type CreateGatewayOptions, type Gateway, type GatewayContext, type Logger, type ReadinessReport } from './create-gateway.ts';
