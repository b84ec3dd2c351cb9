import { ApolloGateway, type SupergraphSdlHook } from '@apollo/gateway';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import type { GatewayInterface } from '@apollo/server-gateway-interface';
import { buildAccessRules, createAuthorization } from '../auth/index.ts';
import type { GatewayConfig } from '../config/index.ts';
import { buildCostModel, type CostModel, createCostPlugin, requestCost } from '../cost/index.ts';
import { createFormatError, ErrorCode } from '../errors/index.ts';
import {
  createExecution,
  type ExecutionStats,
  type UpstreamSubscribe,
  withDefer,
} from '../executor/index.ts';
import type { FormatError, FormatOptions } from '../incremental/index.ts';
import { createLimitsRule } from '../limits/index.ts';
import type { PersistedQueries } from '../persisted/index.ts';
import type { HivePlannerClass } from '../planner/index.ts';
import {
  ReplicaDataSource,
  type ReplicaPool,
  type RequestDecorator,
  type RequestHeaderRules,
} from '../pool/index.ts';
import { createRateLimitPlugin, type RateLimitStore } from '../ratelimit/index.ts';
import { createTelemetryPlugin, traceExecution } from '../telemetry/index.ts';
import { createDirectExecution, type DirectExecution } from './direct-execution.ts';
import type { GatewayMetrics } from './metrics.ts';
import type { GatewayContext, Logger } from './types.ts';

/**
 * When every subgraph fetch failed and nothing came back, the response is an outage, not partial data:
 * answer 503. With any data at all it stays 200.
 */
const unavailableStatus: ApolloServerPlugin<GatewayContext> = {
  async requestDidStart() {
    return {
      async willSendResponse({ response }) {
        if (response.body.kind !== 'single') return;
        const { data, errors } = response.body.singleResult;
        if (!errors?.length || !errors.every((e) => e.extensions?.code === ErrorCode.SUBGRAPH_UNAVAILABLE))
          return;
        const empty = data == null || Object.values(data).every((v) => v == null);
        if (empty) response.http.status = 503;
      },
    };
  },
};

export interface PipelineOptions {
  config: GatewayConfig;
  /** The supergraph resolved at start: the cost model and access rules begin from it. */
  initialSdl: string;
  /** ApolloGateway's `supergraphSdl` option (the supergraph watch's hook). */
  supergraph: SupergraphSdlHook;
  /** One pool per subgraph; a subgraph's data source is built over its pool. */
  pools: ReadonlyMap<string, ReplicaPool>;
  /** Signs every subgraph fetch (undefined: unsigned). */
  decorate: RequestDecorator<GatewayContext> | undefined;
  /** The `headers` rules, applied to every subgraph fetch before it is signed (undefined: none). */
  headerRules?: RequestHeaderRules<GatewayContext> | undefined;
  store: RateLimitStore;
  persisted: PersistedQueries<GatewayContext>;
  metrics: GatewayMetrics;
  /** The Hive planner addon, loaded (undefined: apollo plans). */
  hive: HivePlannerClass | undefined;
  /** Opens subscriptions' upstreams (the upstream hub); undefined refuses subscriptions. */
  subscribe?: UpstreamSubscribe | undefined;
  logger: Logger;
  log: (message: string, fields: Record<string, unknown>) => void;
}

export interface Pipeline {
  readonly apollo: ApolloServer<GatewayContext>;
  /** Prepared operations run without Apollo Server's pipeline (the HTTP handler asks it first). */
  readonly direct: DirectExecution<GatewayContext>;
  /** How errors outside Apollo Server's responses (deferred payloads, events) are formatted, as its own. */
  readonly format: FormatOptions & { formatError: FormatError };
  /** Requests run by Tollgate's executor and by Apollo's (introspection), and the serving planner. */
  readonly executorStats: Readonly<ExecutionStats>;
  /** The serving supergraph's cost model (subscription events are charged by it). */
  costModel(): CostModel;
  /** Starts Apollo Server; from then on the cost model and access rules follow each supergraph swap. */
  start(): Promise<void>;
}

/**
 * The request pipeline: Apollo Gateway over the pools, its executor wrapped, and Apollo Server with the
 * plugins in the order they run.
 */
export function createPipeline(options: PipelineOptions): Pipeline {
  const { config, pools, logger, log } = options;
  let costModel = buildCostModel(options.initialSdl);
  let accessRules = buildAccessRules(options.initialSdl);
  const authorization = createAuthorization<GatewayContext>({ rules: () => accessRules });
  const apolloGateway = new ApolloGateway({
    supergraphSdl: options.supergraph,
    buildService: ({ name }) => {
      const pool = pools.get(name);
      if (!pool) throw new Error(`no replica pool for subgraph ${name}`);
      return new ReplicaDataSource<GatewayContext>({
        pool,
        decorate: options.decorate,
        headerRules: options.headerRules,
        route: (context) => context?.routing?.subsetFor(name),
      });
    },
    // Apollo's planner plans @defer into Defer nodes (Tollgate's executor delivers them incrementally).
    queryPlannerConfig: { incrementalDelivery: { enableDefer: true } },
    logger: {
      debug() {},
      info() {},
      warn: (m: unknown) => logger.warn(String(m)),
      error: (m: unknown) => logger.error(String(m)),
    },
  });
  // ApolloGateway implements server-gateway-interface 1.x, structurally the same as the 2.x Apollo Server 5 takes.
  const inner = apolloGateway as unknown as GatewayInterface;
  // The configured planner plans; Tollgate's executor runs every plan (Apollo's only introspection).
  const execution = createExecution(apolloGateway, {
    planner: config.supergraph.planner,
    hive: options.hive,
    warn: (m) => logger.warn(m),
    subscribe: options.subscribe,
    perCallerSubgraphs: config.subscriptions.upstream.perCaller,
  });
  // The executor wrappers, innermost first; leave the order intact:
  // 1. Tollgate's executor, innermost: it plans from the document and queryHash it is handed and caches
  //    prepared plans by them;
  // 2. authorization around it: it hands the executor the operation without the denied fields, under
  //    its own queryHash, so no plan built for a caller who may see
  //    more fields serves one who may not; then it adds the denial errors to the result;
  // 3. tracing outermost: the gateway.execute span covers all of the above, and every fetch span hangs
  //    under it.
  // 4. outside them all, direct execution captures the executor so prepared operations can skip Apollo
  //    Server's pipeline (direct-execution.ts).
  const traced = traceExecution(authorization.wrap(execution.wrap(withDefer(inner))));

  const costDeps = { model: () => costModel };
  // Production answers no introspection and gives no "Did you mean …" hints (issue 9).
  const introspection = config.server.introspection ?? config.development;
  const plugins: ApolloServerPlugin<GatewayContext>[] = [
    ApolloServerPluginLandingPageDisabled(),
    ApolloServerPluginUsageReportingDisabled(),
    ApolloServerPluginSchemaReportingDisabled(),
    ApolloServerPluginInlineTraceDisabled(),
    ApolloServerPluginCacheControlDisabled(),
    unavailableStatus,
    createTelemetryPlugin<GatewayContext>(config.telemetry),
    ...(options.persisted.plugin ? [options.persisted.plugin] : []),
    authorization.plugin,
    // cost.mode off: no cost limit and no extensions.cost (rate limits, if on, still charge estimates)
    ...(config.cost.mode === 'off' ? [] : [createCostPlugin<GatewayContext>(config.cost, costDeps)]),
    ...(config.ratelimit.enabled
      ? [
          createRateLimitPlugin<GatewayContext>(config.ratelimit, {
            store: options.store,
            mode: config.cost.mode === 'measure' ? 'measure' : 'enforce',
            costOf: (rc) => requestCost(rc, config.cost, costDeps),
            log,
            onDecision: options.metrics.rateLimitDecision,
          }),
        ]
      : []),
    // last: it reads the status and extensions.cost the plugins above set
    options.metrics.plugin,
  ];
  const formatError = createFormatError({
    development: config.development,
    hideSuggestions: !introspection,
    log: (message, error) =>
      logger.error(message, { error: error instanceof Error ? error.message : String(error) }),
  });
  const direct = createDirectExecution<GatewayContext>({
    plugins,
    formatError,
    includeStacktraceInErrorResponses: config.development,
    // trusted documents rewrite the query before Apollo Server hashes it: those requests keep its pipeline
    enabled: !options.persisted.plugin,
  });
  const gateway = direct.wrap(traced);
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    // One shutdown owner (main.ts → gateway close): Apollo's own SIGTERM handler (on by default outside
    // NODE_ENV=test) would stop the server while the drain still serves, answering 500s. Leave this intact.
    stopOnTerminationSignals: false,
    csrfPrevention: true,
    parseOptions: { maxTokens: config.limits.maxTokens },
    validationRules: [createLimitsRule(config.limits)],
    introspection,
    hideSchemaDetailsFromClientErrors: !introspection,
    allowBatchedHttpRequests: config.server.batching,
    persistedQueries: options.persisted.apolloOption,
    includeStacktraceInErrorResponses: config.development,
    formatError,
    plugins: [...plugins, direct.plugin],
  });
  return {
    apollo,
    direct,
    format: { formatError, includeStacktrace: config.development },
    executorStats: execution.stats,
    costModel: () => costModel,
    async start() {
      await apollo.start();
      apolloGateway.onSchemaLoadOrUpdate(({ coreSupergraphSdl }) => {
        try {
          costModel = buildCostModel(coreSupergraphSdl);
          accessRules = buildAccessRules(coreSupergraphSdl);
        } catch (error) {
          logger.error('cost model or access rules not updated; keeping the previous ones', {
            error: (error as Error).message,
          });
        }
      });
    },
  };
}
