// @tollgate/gateway: a GraphQL federation gateway with a balanced replica pool per subgraph.
export { createGateway, type CreateGatewayOptions, type Gateway, type GatewayContext } from './server/index.ts';
export { loadConfig, ConfigError, type GatewayConfig, type GatewayConfigInput } from './config/index.ts';
export { composeSupergraph, SupergraphError } from './supergraph/index.ts';
