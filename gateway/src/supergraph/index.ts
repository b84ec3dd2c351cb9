// Where the supergraph comes from: composed at start from subgraph SDLs, or read from a file.
export { composeSupergraph, fetchSubgraphSdl, subgraphsOf, gatewaySafeSdl, SupergraphError } from './compose.ts';
export type { SubgraphSdl, SupergraphSubgraph } from './compose.ts';
export { resolveSupergraph, type ResolvedSupergraph } from './resolve.ts';
