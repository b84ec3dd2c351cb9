// Header rules (`headers`): which client headers, static values and token claims each subgraph fetch
// carries. A pure core (rules.ts) and the per-request applier the fetch path calls.
export { createHeaderRules, type HeaderRulesApplier, type HeaderRulesContext } from './header-rules.ts';
export { CREDENTIALS, HEADER_NAME, HEADER_VALUE, reservedProblem } from './reserved.ts';
export {
  type HeaderRule,
  type HeaderRulesConfig,
  type InsertRule,
  type PropagateRule,
  type RemoveRule,
  unknownSubgraphNames,
} from './rules.ts';
