// The subgraph server every service runs: Apollo + Federation 2 on node:http, health, per-request
// context, and the process entry point used by each service's main.ts.
export {
  createSubgraph,
  type ListenOptions,
  type Subgraph,
  type SubgraphOptions,
  type SubgraphSigningOptions,
} from './create-subgraph.ts';
export { BadUserInputError, UnauthenticatedError } from './errors.ts';
export { type RunnableService, runSubgraph, type SubgraphDeps, type SubgraphEnv } from './run-subgraph.ts';
export {
  type FieldResolver,
  loadTypeDefs,
  type ReferenceResolver,
  type Resolvers,
  type ServiceDefinition,
  type SubgraphContext,
  type SubscriptionResolver,
} from './service-definition.ts';
export { GOING_AWAY } from './websocket.ts';
