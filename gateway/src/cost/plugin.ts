import type { ApolloServerPlugin, BaseContext, GraphQLRequestContext } from '@apollo/server';
import type { GatewayConfig } from '../config/index.ts';
import { BadRequestError, CostLimitExceededError } from '../errors/index.ts';
import { annotateRequest } from '../telemetry/index.ts';
import { actualCost } from './actual.ts';
import type { CostModel } from './cost-model.ts';
import { CostAnalysisError } from './errors.ts';
import { estimateCost } from './estimate.ts';

/** What one request costs: the estimate charged before execution, and the actual cost once data is back. */
export interface RequestCost {
  readonly estimated: number;
  /** The cost of the data actually returned (list sizes as returned); memoized. */
  actual(data: unknown): number;
}

export interface CostPluginDeps {
  /** The current cost model (it changes when the supergraph is reloaded). */
  model(): CostModel;
}

const costs = new WeakMap<object, RequestCost>();
// Estimates of variable-free operations, by query hash and operation name: the common case of a
// client sending the same document again costs one map lookup.
const MAX_CACHED = 1_000;

/**
 * The cost of this request, computed once and shared by the cost and rate-limit plugins (Apollo runs the
 * hooks of different plugins concurrently, so neither may rely on the other having run first).
 */
export function requestCost<T extends BaseContext>(
  rc: GraphQLRequestContext<T>,
  config: GatewayConfig['cost'],
  deps: CostPluginDeps,
  cache?: Map<string, number>,
): RequestCost {
  const existing = costs.get(rc.contextValue);
  if (existing) return existing;
  const model = deps.model();
  const document = rc.document!;
  const options = {
    operationName: rc.request.operationName,
    variables: rc.request.variables,
    defaultListSize: config.defaultListSize,
    directiveFreeListSize: config.directiveFreeListSize,
  };
  const hasVariables = rc.request.variables && Object.keys(rc.request.variables).length > 0;
  const key = hasVariables ? undefined : `${rc.queryHash}:${rc.request.operationName ?? ''}`;
  let estimated = key === undefined ? undefined : cache?.get(key);
  if (estimated === undefined) {
    try {
      estimated = estimateCost(model, document, options);
    } catch (error) {
      if (error instanceof CostAnalysisError)
        throw new BadRequestError(error.message, { extensions: { reason: error.code } });
      throw error;
    }
    if (key !== undefined && cache) {
      if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!);
      cache.set(key, estimated);
    }
  }
  let actual: number | undefined;
  const cost: RequestCost = {
    estimated,
    actual(data) {
      if (actual === undefined) {
        try {
          actual = actualCost(model, document, data, options);
        } catch {
          actual = estimated!; // a response we cannot measure is charged its estimate, never more
        }
      }
      return actual;
    },
  };
  costs.set(rc.contextValue, cost);
  return cost;
}

/**
 * Demand control: estimates each operation's cost from @cost/@listSize before any subgraph is called,
 * rejects it above `maxCost` (mode `enforce`), and reports `requestedQueryCost`/`actualQueryCost` in
 * `extensions.cost` of every response.
 */
export function createCostPlugin<T extends BaseContext>(
  config: GatewayConfig['cost'],
  deps: CostPluginDeps,
): ApolloServerPlugin<T> {
  const cache = new Map<string, number>();
  return {
    async serverWillStart() {
      return {
        async schemaDidLoadOrUpdate() {
          cache.clear(); // costs depend on the supergraph's directives
        },
      };
    },
    async requestDidStart() {
      return {
        async didResolveOperation(rc) {
          const { estimated } = requestCost(rc, config, deps, cache);
          annotateRequest(rc.contextValue, { costEstimated: estimated });
          if (config.mode === 'enforce' && estimated > config.maxCost) {
            throw new CostLimitExceededError(
              `Operation cost ${estimated} exceeds the maximum of ${config.maxCost}`,
              {
                extensions: { cost: { requestedQueryCost: estimated, maximumCost: config.maxCost } },
              },
            );
          }
        },
        async willSendResponse(rc) {
          const cost = costs.get(rc.contextValue);
          const body = rc.response.body;
          if (!cost || body.kind !== 'single' || body.singleResult.data === undefined) return;
          const result = body.singleResult;
          result.extensions ??= {};
          const extensions = result.extensions;
          const actualQueryCost = cost.actual(result.data);
          annotateRequest(rc.contextValue, { costActual: actualQueryCost });
          extensions.cost = {
            ...(extensions.cost as object | undefined),
            requestedQueryCost: cost.estimated,
            actualQueryCost,
          };
        },
      };
    },
  };
}
