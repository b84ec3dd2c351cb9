// Where the supergraph comes from: composed at start from subgraph SDLs, read from a file, or fetched
// from a URL (conditional GETs).

export type { ReplicaEntry, SubgraphSdl, SupergraphSubgraph } from './compose.ts';
export {
  composeSupergraph,
  fetchSubgraphSdl,
  gatewaySafeSdl,
  replicaUrlOf,
  SupergraphError,
  subgraphsOf,
} from './compose.ts';
export { type ResolvedReplica, type ResolvedSupergraph, resolveSupergraph } from './resolve.ts';
export { shownUrl } from './url.ts';
