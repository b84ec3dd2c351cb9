import type {
  DocumentNode,
  FragmentDefinitionNode,
  GraphQLObjectType,
  OperationDefinitionNode,
} from 'graphql';
import { getVariableValues, Kind } from 'graphql';
import { type CostModel, declaresCostDirectives } from './cost-model.ts';
import { CostAnalysisError, messageOf } from './errors.ts';

/** Options shared by `estimateCost` and `actualCost`. */
export interface EstimateOptions {
  /**
   * Operation to cost when the document holds several.
   * @default the document's only operation
   */
  operationName?: string | null;
  /**
   * Request variables as raw JSON. They are coerced against the operation's variable definitions; a
   * variable that is absent (and has no default) counts 0.
   * @default {}
   */
  variables?: Record<string, unknown> | null;
  /**
   * Size assumed for a list field when neither a parent's `sizedFields` nor the field's own `@listSize`
   * gives one (Apollo Router's `list_size`), in a schema that applies `@cost` or `@listSize` somewhere.
   * @default 10
   */
  defaultListSize?: number;
  /**
   * Size assumed for every list field of a schema that applies no `@cost` and no `@listSize` at all.
   * Such a schema says nothing about its lists, and 10 per level prices three nested lists over 1000;
   * 1 prices the operation's shape (one point per object selected) instead. See docs/cost.md.
   * @default 1
   */
  directiveFreeListSize?: number;
}

/** Everything about one request that does not depend on where in the selection tree we are. */
export interface PreparedOperation {
  readonly operation: OperationDefinitionNode;
  readonly root: GraphQLObjectType;
  readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>;
  /** Coerced values (defaults applied), for slicing arguments and `@skip`/`@include`. */
  readonly coerced: Readonly<Record<string, unknown>>;
  /** Values as sent (falling back to the coerced default), for argument scoring like the Router does. */
  readonly scoring: Readonly<Record<string, unknown>>;
  readonly defaultListSize: number;
}

const DEFAULT_LIST_SIZE = 10;
const DEFAULT_DIRECTIVE_FREE_LIST_SIZE = 1;

export function prepareOperation(
  model: CostModel,
  document: DocumentNode,
  options: EstimateOptions,
): PreparedOperation {
  for (const name of ['defaultListSize', 'directiveFreeListSize'] as const) {
    const size = options[name];
    if (size !== undefined && (!Number.isFinite(size) || size < 0)) {
      // A configuration bug, not a client error: no CostAnalysisError code fits.
      throw new RangeError(`${name} must be a finite number >= 0, got ${size}`);
    }
  }
  const defaultListSize = declaresCostDirectives(model)
    ? (options.defaultListSize ?? DEFAULT_LIST_SIZE)
    : (options.directiveFreeListSize ?? DEFAULT_DIRECTIVE_FREE_LIST_SIZE);
  if (document?.kind !== Kind.DOCUMENT || !Array.isArray(document.definitions)) {
    throw parseFailure('Expected a parsed GraphQL document');
  }

  const fragments = new Map<string, FragmentDefinitionNode>();
  const operations: OperationDefinitionNode[] = [];
  for (const def of document.definitions) {
    if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
    else if (def.kind === Kind.OPERATION_DEFINITION) operations.push(def);
  }

  const operation = selectOperation(operations, options.operationName ?? undefined);
  const root = model.schema.getRootType(operation.operation);
  if (!root) {
    throw parseFailure(`Schema is not configured to execute ${operation.operation} operation`);
  }

  const raw = options.variables ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new CostAnalysisError('COST_INVALID_VARIABLES', 'Variables must be a JSON object');
  }
  let result: ReturnType<typeof getVariableValues>;
  try {
    result = getVariableValues(model.schema, operation.variableDefinitions ?? [], raw, { maxErrors: 10 });
  } catch (error) {
    // graphql-js throws (rather than reporting) on pathological input such as very deep JSON.
    throw new CostAnalysisError('COST_INVALID_VARIABLES', `Invalid variables: ${messageOf(error)}`, {
      cause: error,
    });
  }
  if (result.errors) {
    throw new CostAnalysisError(
      'COST_INVALID_VARIABLES',
      `Invalid variables: ${result.errors.map((e) => e.message).join('; ')}`,
    );
  }
  const coerced = result.coerced;
  const scoring: Record<string, unknown> = {};
  for (const def of operation.variableDefinitions ?? []) {
    const name = def.variable.name.value;
    if (Object.hasOwn(raw, name)) scoring[name] = raw[name];
    else if (Object.hasOwn(coerced, name)) scoring[name] = coerced[name];
  }

  return { operation, root, fragments, coerced, scoring, defaultListSize };
}

function selectOperation(
  operations: readonly OperationDefinitionNode[],
  operationName: string | undefined,
): OperationDefinitionNode {
  if (operationName !== undefined) {
    const found = operations.find((op) => op.name?.value === operationName);
    if (!found) throw parseFailure(`Unknown operation named "${operationName}"`);
    return found;
  }
  const [only, ...rest] = operations;
  if (!only) throw parseFailure('Must provide an operation');
  if (rest.length > 0)
    throw parseFailure('Must provide operation name if query contains multiple operations');
  return only;
}

export function parseFailure(message: string, coordinate?: string, cause?: unknown): CostAnalysisError {
  return new CostAnalysisError('COST_QUERY_PARSE_FAILURE', message, { coordinate, cause });
}
