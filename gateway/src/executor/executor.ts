// Tollgate's executor: every operation is prepared once per supergraph (planned by the configured planner,
// its result shape compiled), then each request fetches, merges and shapes. Apollo's executor is left
// only introspection. Results follow the GraphQL spec's error rules (shape.ts); `@defer` parts are handed
// to the HTTP layer as an incremental stream (defer.ts, ../incremental).
import { type Operation, operationFromDocument, type Schema } from '@apollo/federation-internals';
import type { GraphQLDataSource } from '@apollo/gateway';
import type { QueryPlanner as ApolloQueryPlanner } from '@apollo/query-planner';
import type {
  GatewayExecutionResult,
  GatewayExecutor,
  GatewayGraphQLRequestContext,
  GatewayInterface,
} from '@apollo/server-gateway-interface';
import {
  GraphQLError,
  type GraphQLSchema,
  getOperationAST,
  getVariableValues,
  type VariableDefinitionNode,
} from 'graphql';
import { wrapExecutor } from '../executor-wrap/index.ts';
import {
  attachIncremental,
  type IncrementalItem,
  incrementalDelivery,
  mergeAtPath,
  type SubsequentPayload,
  subscriptionSlot,
} from '../incremental/index.ts';
import {
  apolloPlanner,
  drawOverrides,
  type HivePlannerClass,
  hivePlanner,
  type OverrideLabels,
  overrideLabelsOf,
  type Planner,
  type PlannerKind,
  type QueryPlan,
  type SubscriptionNode,
} from '../planner/index.ts';
import { recordingSpan, tracer } from '../telemetry/index.ts';
import { rootCursor } from './cursor.ts';
import { attachErrors, DeferTracker, shapeDeferred } from './defer.ts';
import { completeFetches, type DeferredTask, executeNode, type PlanRun } from './plan-executor.ts';
import { shapeResponse, shapeRun } from './shape.ts';
import { type CompiledShape, compileShape } from './shape-compile.ts';
import { completionShareKey, subscriptionEvents, type UpstreamSubscribe } from './subscription.ts';

/** The parts of ApolloGateway's state the executor reads (TypeScript-private fields, stable across 2.x). */
interface ApolloGatewayState {
  apiSchema?: Schema;
  supergraphSchema?: GraphQLSchema;
  queryPlanner?: ApolloQueryPlanner;
  serviceMap: Record<string, { dataSource: GraphQLDataSource } | undefined>;
  onSchemaLoadOrUpdate(callback: (update: { coreSupergraphSdl: string }) => void): () => void;
}

/** A supergraph's planner and its override labels. */
interface Planning {
  planner: Planner;
  /** Apollo's planner, for an operation the hive planner cannot plan. */
  fallback: Planner | undefined;
  labels: OverrideLabels;
}

type Prepared =
  | { kind: 'apollo' }
  | { kind: 'refused'; error: GraphQLError }
  | {
      kind: 'plan';
      plan: QueryPlan;
      shape: CompiledShape;
      variableDefinitions: readonly VariableDefinitionNode[] | undefined;
    };

export interface ExecutionOptions {
  /** The configured planner; `hive` needs `hive` (the loaded addon class), else `apollo` plans. */
  planner: PlannerKind;
  hive: HivePlannerClass | undefined;
  /** Prepared operations kept per supergraph. @default 1000 */
  maxOperations?: number;
  warn?: (message: string) => void;
  /** Opens a subscription's upstream (the upstream hub). Without it subscriptions are refused. */
  subscribe?: UpstreamSubscribe;
  /**
   * Subgraphs whose fields depend on the caller (`subscriptions.upstream.perCaller`): a subscription
   * whose plan reaches one completes its events on its own; the others share an event's completion.
   */
  perCallerSubgraphs?: readonly string[];
}

export interface ExecutionStats {
  /** Requests executed by Tollgate's executor. */
  tollgate: number;
  /** Requests handed to Apollo's executor (introspection only). */
  apollo: number;
  /** Operations prepared (planned and compiled) since start. */
  prepared: number;
  /** The planner of the serving supergraph. */
  planner: PlannerKind | undefined;
  /** Operations the hive planner could not plan, planned by apollo instead. */
  fallbacks: number;
}

export interface Execution {
  wrap(gateway: GatewayInterface): GatewayInterface;
  readonly stats: Readonly<ExecutionStats>;
}

const APOLLO: Prepared = { kind: 'apollo' };

const NOT_OVER_HTTP =
  'Subscriptions are not served over a single HTTP request; open a subscription transport (WebSocket, SSE or multipart) instead';

function refusedError(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } });
}

function toGraphQLError(error: unknown): GraphQLError {
  if (error instanceof GraphQLError) return error;
  return new GraphQLError(error instanceof Error ? error.message : String(error), {
    originalError: error instanceof Error ? error : undefined,
  });
}

/**
 * Wraps an ApolloGateway so that Tollgate's executor runs its operations. `apolloGateway` is the instance
 * inside `gateway`: its supergraph state (API schema, supergraph schema, Apollo's planner, data sources)
 * is read; a planner of the configured kind is built on every supergraph load, before the first request
 * on it.
 */
export function createExecution(apolloGateway: object, options: ExecutionOptions): Execution {
  const state = apolloGateway as unknown as ApolloGatewayState;
  const max = options.maxOperations ?? 1000;
  const warn = options.warn ?? (() => {});
  const perCaller = new Set(options.perCallerSubgraphs ?? []);
  const stats: ExecutionStats = { tollgate: 0, apollo: 0, prepared: 0, planner: undefined, fallbacks: 0 };
  const plannings = new WeakMap<Schema, Planning>();
  let cacheSchema: Schema | undefined;
  let cache = new Map<string, Prepared>();

  const build = (sdl: string): Planning | undefined => {
    const { apiSchema, supergraphSchema, queryPlanner } = state;
    if (!apiSchema || !supergraphSchema || !queryPlanner) return undefined;
    const labels = overrideLabelsOf(sdl);
    let planner: Planner | undefined;
    if (options.planner === 'hive' && options.hive) {
      try {
        planner = hivePlanner(options.hive, sdl, supergraphSchema);
      } catch (error) {
        warn(
          `supergraph.planner: the hive planner refused this supergraph (${(error as Error).message}); planning it with apollo`,
        );
      }
    }
    const apollo = apolloPlanner(queryPlanner, supergraphSchema, labels);
    const planning = { planner: planner ?? apollo, fallback: planner ? apollo : undefined, labels };
    plannings.set(apiSchema, planning);
    stats.planner = planning.planner.kind;
    return planning;
  };
  // Runs inside ApolloGateway's swap, synchronously: no request sees the new schema without its planner.
  state.onSchemaLoadOrUpdate(({ coreSupergraphSdl }) => {
    build(coreSupergraphSdl);
  });

  const prepare = (
    rc: GatewayGraphQLRequestContext,
    apiSchema: Schema,
    planning: Planning,
    overrides: ReturnType<typeof drawOverrides>,
  ): Prepared => {
    const operationName = rc.request.operationName;
    const opNode = getOperationAST(rc.document, operationName);
    if (!opNode) return APOLLO; // Apollo reports the missing operation the way it always has
    let planOperation: Operation;
    let shapeOperation: Operation;
    try {
      planOperation = operationFromDocument(apiSchema, rc.document, { operationName });
      shapeOperation = operationFromDocument(apiSchema, rc.document, { operationName, validate: false });
    } catch {
      return APOLLO;
    }
    const shape = compileShape(shapeOperation);
    if (shape.hasIntrospection) return APOLLO;
    // Planning happens once per operation and supergraph; a sampled request that plans shows it.
    const span = recordingSpan()
      ? tracer.startSpan('gateway.plan', { attributes: { 'tollgate.planner': planning.planner.kind } })
      : undefined;
    let plan: QueryPlan;
    // the operation's own name (a client need not send operationName): subgraph operations are named after it
    const input = {
      operation: planOperation,
      document: rc.document,
      operationName: opNode.name?.value,
      overrides,
    };
    try {
      plan = planning.planner.plan(input);
    } catch (error) {
      if (!planning.fallback) throw error;
      // The hive planner refuses a few shapes it does not support yet; Apollo's plans them.
      warn(
        `supergraph.planner: hive could not plan operation ${operationName ?? '(anonymous)'} (${(error as Error).message}); planned with apollo`,
      );
      stats.fallbacks++;
      plan = planning.fallback.plan(input);
    } finally {
      span?.end();
    }
    stats.prepared++;
    return { kind: 'plan', plan, shape, variableDefinitions: opNode.variableDefinitions };
  };

  const preparedFor = (rc: GatewayGraphQLRequestContext): Prepared => {
    const apiSchema = state.apiSchema;
    if (!apiSchema) return APOLLO;
    if (apiSchema !== cacheSchema) {
      // a new supergraph: plans and shapes of the old one are void
      cacheSchema = apiSchema;
      cache = new Map();
    }
    const planning = plannings.get(apiSchema);
    if (!planning) return APOLLO; // no supergraph loaded through the listener yet
    // the custom labels routing rules turned on for this request (GatewayContext.overrideLabels)
    const custom = (rc.context as { overrideLabels?: unknown }).overrideLabels;
    const overrides = drawOverrides(planning.labels, Math.random, custom instanceof Set ? custom : undefined);
    const name = rc.request.operationName;
    const key = `${rc.queryHash}\0${name ?? ''}\0${overrides.key}`;
    let prepared = cache.get(key);
    if (!prepared) {
      try {
        prepared = prepare(rc, apiSchema, planning, overrides);
      } catch (error) {
        prepared = { kind: 'refused', error: toGraphQLError(error) };
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
    prepared: Extract<Prepared, { kind: 'plan' }>,
  ): Promise<GatewayExecutionResult> => {
    const { plan, shape } = prepared;
    const variables = rc.request.variables;
    if (prepared.variableDefinitions?.length) {
      const { errors } = getVariableValues(rc.schema, prepared.variableDefinitions, variables ?? {});
      if (errors) return { errors };
    }
    const run: PlanRun = {
      service,
      requestContext: rc,
      variables: { __proto__: null, ...shape.defaults, ...variables },
      errors: [],
      deferred: [],
      incomplete: [],
    };
    if (plan.node?.kind === 'Subscription') return startSubscription(rc, prepared, plan.node, run.variables);
    // plain, not null-prototype (fast-mode objects; see representation()): deepMerge defines every key it
    // sets as an own property, and the cursor and shaping read only own ones
    const data: Record<string, unknown> = {};
    try {
      if (plan.node) await executeNode(run, plan.node, rootCursor(data));
      await completeFetches(run);
      // Parts are deferred only for a client that takes them as they come (multipart); for the others the
      // HTTP layer would merge them back into one response anyway.
      const tracker =
        shape.defers.length && incrementalDelivery(rc.context) === 'multipart'
          ? new DeferTracker(shapeRun(shape, variables), shape.defers)
          : undefined;
      if (!tracker?.active) {
        // no part to defer: run any deferred plan parts now and answer at once
        await runDeferred(run, () => {});
        const shaped = shapeResponse(shape, data, variables, { priorErrors: run.errors });
        const errors = [...run.errors, ...shaped.errors];
        return errors.length ? { errors, data: shaped.data } : { data: shaped.data };
      }
      const shaped = shapeResponse(shape, data, variables, { deferring: true, priorErrors: run.errors });
      const errors = [...run.errors, ...shaped.errors];
      if (shaped.data) {
        attachIncremental(rc.context, incremental(run, shape, tracker, data, shaped.data, variables));
      }
      return errors.length ? { errors, data: shaped.data } : { data: shaped.data };
    } catch (error) {
      return { errors: [toGraphQLError(error)] };
    }
  };

  // A subscription's events go to whoever left a slot for them on the context (a subscription
  // transport); the result Apollo Server gets has no data, so no plugin measures or refunds a cost on it.
  const startSubscription = (
    rc: GatewayGraphQLRequestContext,
    prepared: Extract<Prepared, { kind: 'plan' }>,
    node: SubscriptionNode,
    variables: Record<string, unknown>,
  ): GatewayExecutionResult => {
    const slot = subscriptionSlot(rc.context);
    if (!slot || !options.subscribe) return { errors: [refusedError(NOT_OVER_HTTP)] };
    slot.events = subscriptionEvents({
      node,
      shape: prepared.shape,
      requestContext: rc,
      variables,
      service,
      subscribe: options.subscribe,
      shareKey: completionShareKey(node, perCaller, {
        queryHash: rc.queryHash,
        operationName: rc.request.operationName,
        variables: rc.request.variables,
      }),
    });
    return {};
  };

  const tollgateOrApollo =
    (apollo: GatewayExecutor): GatewayExecutor =>
    (rc) => {
      const prepared = preparedFor(rc);
      if (prepared.kind === 'apollo') {
        stats.apollo++;
        return apollo(rc);
      }
      if (prepared.kind === 'refused') return Promise.resolve({ errors: [prepared.error] });
      stats.tollgate++;
      return execute(rc, prepared);
    };

  return {
    stats,
    wrap: (gateway) => wrapExecutor(gateway, tollgateOrApollo),
  };
}

/** Runs the collected deferred plan parts (and the ones they collect), telling `done` as each finishes. */
async function runDeferred(run: PlanRun, done: (task: DeferredTask) => void): Promise<void> {
  let next = 0;
  const running = new Map<number, Promise<number>>();
  const start = () => {
    while (next < run.deferred.length) {
      const i = next++;
      const task = run.deferred[i]!;
      running.set(
        i,
        executeNode(run, task.node, task.cursor)
          .then(() => completeFetches(run))
          .then(
            () => i,
            (error) => {
              run.errors.push(toGraphQLError(error));
              return i;
            },
          ),
      );
    }
  };
  start();
  while (running.size) {
    const i = await Promise.race(running.values());
    running.delete(i);
    done(run.deferred[i]!);
    start();
  }
}

/** The subsequent payloads of a deferred response: labelled parts as their plan parts finish, the rest last. */
async function* incremental(
  run: PlanRun,
  shape: CompiledShape,
  tracker: DeferTracker,
  data: Record<string, unknown>,
  initial: Record<string, unknown>,
  variables: Record<string, unknown> | undefined,
): AsyncGenerator<SubsequentPayload> {
  let errorsSent = run.errors.length;
  let delivered = initial;
  const parts = (defers: ReturnType<DeferTracker['take']>): IncrementalItem[] => {
    const srun = shapeRun(shape, variables, { deferring: true, priorErrors: run.errors });
    const items: IncrementalItem[] = [];
    for (const d of defers) {
      const found = shapeDeferred(srun, shape.root, d, data, delivered);
      // what the client holds now (copied along the path, so the initial result is never changed)
      for (const item of found) delivered = mergeAtPath(delivered, item.path, item.data);
      items.push(...found);
    }
    attachErrors(items, run.errors.slice(errorsSent));
    if (items.length) errorsSent = run.errors.length;
    return items;
  };
  const ready: IncrementalItem[][] = [];
  let wake: (() => void) | undefined;
  let finished = false;
  const work = runDeferred(run, (task) => {
    if (task.label === undefined) return;
    const items = parts(tracker.take(task.label, false));
    if (items.length) {
      ready.push(items);
      wake?.();
    }
  }).finally(() => {
    finished = true;
    wake?.();
  });
  while (!finished || ready.length) {
    if (!ready.length) await new Promise<void>((resolve) => (wake = resolve));
    wake = undefined;
    while (ready.length) yield { incremental: ready.shift()!, hasNext: true };
  }
  await work;
  const rest = parts(tracker.take(undefined, true));
  yield rest.length ? { incremental: rest, hasNext: false } : { hasNext: false };
}
