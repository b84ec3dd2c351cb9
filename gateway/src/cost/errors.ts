/**
 * Stable codes for cost analysis failures. Callers (the plugin) match on `code`, never on the message.
 * - `COST_QUERY_PARSE_FAILURE`: the operation cannot be costed (Apollo Router's code for the same cases,
 *   including the `requireOneSlicingArgument` rule).
 * - `COST_INVALID_VARIABLES`: the request variables do not coerce against the operation's definitions.
 * - `COST_SCHEMA_INVALID`: `buildCostModel` was given SDL it cannot read.
 */
export type CostErrorCode = 'COST_QUERY_PARSE_FAILURE' | 'COST_INVALID_VARIABLES' | 'COST_SCHEMA_INVALID';

export interface CostAnalysisErrorOptions {
  /** Schema coordinate (`Type.field`) the failure is about, when there is one. */
  coordinate?: string;
  cause?: unknown;
}

/** Thrown by `buildCostModel`, `estimateCost` and `actualCost` for every expected failure. */
export class CostAnalysisError extends Error {
  override readonly name = 'CostAnalysisError';
  readonly code: CostErrorCode;
  readonly coordinate: string | undefined;

  constructor(code: CostErrorCode, message: string, options: CostAnalysisErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.coordinate = options.coordinate;
  }
}

/** Message of an unknown thrown value, for wrapping graphql-js errors without losing their text. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
