// Where the supergraph comes from: composed at start from subgraph SDLs, or read from a file.

export type { SubgraphSdl, SupergraphSubgraph } from './compose.ts';
export {
  composeSupergraph,
  fetchSubgraphSdl,
  gatewaySafeSdl,
  SupergraphError,
  subgraphsOf,
} from './compose.ts';
export { type ResolvedSupergraph, resolveSupergraph } from './resolve.ts';
