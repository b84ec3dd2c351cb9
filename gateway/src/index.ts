// @tollgate/gateway: a GraphQL federation gateway with a balanced replica pool per subgraph.

export { ConfigError, type GatewayConfig, type GatewayConfigInput, loadConfig } from './config/index.ts';
export {
  type CreateGatewayOptions,
  createGateway,
  createGraphsGateway,
  type Gateway,
  type GatewayContext,
  type GraphsGateway,
} from './server/index.ts';
export { composeSupergraph, SupergraphError } from './supergraph/index.ts';
