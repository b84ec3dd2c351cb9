// A faster executor for Apollo Gateway's query plans (issue 10). Apollo's query planner still plans; this
// replaces what happens per request around the plan: Apollo Gateway rebuilds the operation twice per
// request (`buildOperationContext`, `operationFromDocument`), hashes the plan-cache key, wraps every plan
// node in OpenTelemetry spans and usage-reporting trace nodes, and shapes the result through
// federation-internals' selection classes. Here an operation is prepared once (plan + compiled shape) and
// each request only fetches, merges and shapes. Anything unusual (introspection, @defer, subscriptions, an
// operation the preparation refuses) goes to Apollo's own executor, so behaviour never diverges.
import {
  type Operation,
  operationFromDocument,
  type Schema,
  type VariableDefinitions,
} from '@apollo/federation-internals';
import type { GraphQLDataSource } from '@apollo/gateway';
import type { PlanNode, QueryPlan, QueryPlanner } from '@apollo/query-planner';
import type {
  GatewayExecutionResult,
  GatewayExecutor,
  GatewayGraphQLRequestContext,
  GatewayInterface,
} from '@apollo/server-gateway-interface';
import {
  type GraphQLError,
  GraphQLError as GraphQLErrorClass,
  type GraphQLSchema,
  getOperationAST,
  getVariableValues,
  type VariableDefinitionNode,
} from 'graphql';
import { wrapExecutor } from '../executor-wrap/index.ts';
import { recordingSpan, tracer } from '../telemetry/index.ts';
import { executePlanNode, planNeedsApollo } from './plan-executor.ts';
import { type CompiledShape, compileShape, shapeResponse } from './shape.ts';

/** The parts of ApolloGateway's state the executor reads (TypeScript-private fields, stable across 2.x). */
interface ApolloGatewayState {
  apiSchema?: Schema;
  supergraphSchema?: GraphQLSchema;
  queryPlanner?: QueryPlanner;
  serviceMap: Record<string, { dataSource: GraphQLDataSource } | undefined>;
  recursiveSelectionsLimitDisabled?: boolean;
  nonLocalSelectionsLimitDisabled?: boolean;
}

interface Prepared {
  /** Left to Apollo's executor. */
  apollo: boolean;
  plan?: QueryPlan;
  shape?: CompiledShape;
  variableDefinitions?: readonly VariableDefinitionNode[];
  operationVariables?: VariableDefinitions;
}

export interface FastExecutorOptions {
  /** Prepared operations kept per supergraph. @default 1000 */
  maxOperations?: number;
}

export interface FastExecutorStats {
  /** Requests executed by the fast path. */
  fast: number;
  /** Requests handed to Apollo's executor. */
  apollo: number;
  /** Operations prepared (planned and compiled) since start. */
  prepared: number;
}

export interface FastExecution {
  wrap(gateway: GatewayInterface): GatewayInterface;
  readonly stats: Readonly<FastExecutorStats>;
}

const APOLLO: Prepared = { apollo: true };

/**
 * Wraps an ApolloGateway so that its executor is the fast one. `apolloGateway` is the instance inside
 * `gateway` (the same object when nothing else wraps it): its planner, schemas and data sources are used.
 */
export function createFastExecution(apolloGateway: object, options: FastExecutorOptions = {}): FastExecution {
  const state = apolloGateway as unknown as ApolloGatewayState;
  const max = options.maxOperations ?? 1000;
  const stats: FastExecutorStats = { fast: 0, apollo: 0, prepared: 0 };
  let cacheSchema: Schema | undefined;
  let cache = new Map<string, Prepared>();

  const prepare = (rc: GatewayGraphQLRequestContext, apiSchema: Schema): Prepared => {
    const planner = state.queryPlanner;
    if (!planner) return APOLLO;
    const operationName = rc.request.operationName;
    const opNode = getOperationAST(rc.document, operationName);
    if (!opNode || opNode.operation === 'subscription') return APOLLO;
    let planOperation: Operation;
    let shapeOperation: Operation;
    try {
      planOperation = operationFromDocument(apiSchema, rc.document, { operationName });
      shapeOperation = operationFromDocument(apiSchema, rc.document, { operationName, validate: false });
    } catch {
      return APOLLO; // Apollo's executor reports the error the way it always has
    }
    const shape = compileShape(shapeOperation);
    if (shape.hasIntrospection) return APOLLO;
    // Planning happens once per operation and supergraph; a sampled request that plans shows it.
    const span = recordingSpan() ? tracer.startSpan('gateway.plan') : undefined;
    let plan: QueryPlan;
    try {
      plan = planner.buildQueryPlan(planOperation, {
        recursiveSelectionsLimitDisabled: state.recursiveSelectionsLimitDisabled ?? false,
        nonLocalSelectionsLimitDisabled: state.nonLocalSelectionsLimitDisabled ?? false,
      });
    } finally {
      span?.end();
    }
    if (planNeedsApollo(plan.node)) return APOLLO;
    stats.prepared++;
    return {
      apollo: false,
      plan,
      shape,
      variableDefinitions: opNode.variableDefinitions,
      operationVariables: shapeOperation.variableDefinitions,
    };
  };

  const preparedFor = (rc: GatewayGraphQLRequestContext): Prepared => {
    const apiSchema = state.apiSchema;
    if (!apiSchema) return APOLLO;
    if (apiSchema !== cacheSchema) {
      // a new supergraph: plans and shapes of the old one are void
      cacheSchema = apiSchema;
      cache = new Map();
    }
    const key = rc.request.operationName ? `${rc.queryHash}\0${rc.request.operationName}` : rc.queryHash;
    let prepared = cache.get(key);
    if (!prepared) {
      try {
        prepared = prepare(rc, apiSchema);
      } catch {
        prepared = APOLLO;
      }
      if (cache.size >= max) cache.delete(cache.keys().next().value as string);
      cache.set(key, prepared);
    }
    return prepared;
  };

  // Read from the gateway's current service map at fetch time: no per-request copy of it.
  const service = (name: string): GraphQLDataSource | undefined =>
    Object.hasOwn(state.serviceMap, name) ? state.serviceMap[name]?.dataSource : undefined;

  const execute = async (
    rc: GatewayGraphQLRequestContext,
    prepared: Prepared,
  ): Promise<GatewayExecutionResult> => {
    const { plan, shape } = prepared as Required<Prepared>;
    const variables = rc.request.variables;
    if (prepared.variableDefinitions?.length) {
      const { errors } = getVariableValues(rc.schema, prepared.variableDefinitions, variables ?? {});
      if (errors) return { errors };
    }
    const errors: GraphQLError[] = [];
    const supergraphSchema = state.supergraphSchema;
    if (!supergraphSchema) throw new Error('the gateway has no supergraph schema loaded');
    const data = await executePlanNode(
      {
        service,
        requestContext: rc,
        supergraphSchema,
        variableDefinitions: prepared.operationVariables!,
        errors,
      },
      plan.node as PlanNode | undefined, // planNeedsApollo sent subscriptions to Apollo
    );
    try {
      const shaped = shapeResponse(shape, data, variables);
      // As Apollo: shaping errors ride in extensions.valueCompletion unless the fetches already failed.
      if (errors.length === 0 && shaped.errors.length > 0)
        return { extensions: { valueCompletion: shaped.errors }, data: shaped.data };
      return errors.length === 0 ? { data: shaped.data } : { errors, data: shaped.data };
    } catch (error) {
      if (error instanceof GraphQLErrorClass) return { errors: [error] };
      const message = error instanceof Error ? error.message : 'Unexpected error during query plan execution';
      return {
        errors: [
          new GraphQLErrorClass(message, error instanceof Error ? { originalError: error } : undefined),
        ],
      };
    }
  };

  const fastOrApollo =
    (apollo: GatewayExecutor): GatewayExecutor =>
    (rc) => {
      const prepared = preparedFor(rc);
      if (prepared.apollo) {
        stats.apollo++;
        return apollo(rc);
      }
      stats.fast++;
      return execute(rc, prepared);
    };

  return {
    stats,
    wrap: (gateway) => wrapExecutor(gateway, fastOrApollo),
  };
}
