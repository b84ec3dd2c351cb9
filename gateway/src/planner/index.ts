// Query planning: Tollgate's plan format and the two planners that produce it (issue 15).
export { PlanConversionError } from './convert.ts';
export * from './plan.ts';
export {
  type ActiveOverrides,
  apolloPlanner,
  drawOverrides,
  type HivePlannerClass,
  hivePlanner,
  loadHivePlanner,
  type OverrideLabels,
  overrideLabelsOf,
  type PlanInput,
  type Planner,
} from './planners.ts';
