// Query cost analysis: IBM @cost/@listSize read from the supergraph, a static estimate before execution and
// the actual cost measured on the response (the plugin charges the first and refunds the difference).
export { actualCost } from './actual.ts';
export { buildCostModel, type CostModel } from './cost-model.ts';
export { CostAnalysisError } from './errors.ts';
export { type EstimateOptions, estimateCost } from './estimate.ts';
export { type CostPluginDeps, createCostPlugin, type RequestCost, requestCost } from './plugin.ts';
