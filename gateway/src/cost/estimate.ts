import type { DocumentNode } from 'graphql';
import { Analysis, guarded } from './analysis.ts';
import type { CostModel } from './cost-model.ts';
import { type EstimateOptions, prepareOperation } from './operation.ts';

export type { EstimateOptions } from './operation.ts';

/**
 * Static cost of the selected operation before execution, per docs/design.md#query-cost (IBM cost directives as the
 * Apollo Router computes them). Pure and synchronous; throws `CostAnalysisError` for operations that
 * cannot be costed, including the `requireOneSlicingArgument` rule.
 */
export function estimateCost(
  model: CostModel,
  document: DocumentNode,
  options: EstimateOptions = {},
): number {
  return guarded(() => {
    const analysis = new Analysis(model, prepareOperation(model, document, options));
    const { operation, root } = analysis.op;
    return analysis.baseCost() + analysis.estimateSelectionSet(operation.selectionSet, root);
  });
}
