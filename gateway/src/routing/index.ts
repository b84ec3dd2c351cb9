// Routing rules: per request, which replica subset (by label) each subgraph's fetches go to, and which
// progressive-override labels are on. Pure: no Apollo or pool types; the pool applies the subset.
export {
  createRouter,
  type Labels,
  type RouteDecision,
  type RouteInput,
  type Router,
  type RoutingFallback,
  type RoutingOptions,
  type RoutingRule,
  type SubsetRoute,
  unknownSubgraphs,
} from './router.ts';
