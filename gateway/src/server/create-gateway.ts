import type { ApolloServer } from '@apollo/server';
import { createAuthentication, createRequestSigner } from '../auth/index.ts';
import type { GatewayConfig } from '../config/index.ts';
import { createFormatError } from '../errors/index.ts';
import type { ExecutionStats } from '../executor/index.ts';
import { createPersistedQueries } from '../persisted/index.ts';
import { loadHivePlanner } from '../planner/index.ts';
import type { ReplicaPool } from '../pool/index.ts';
import { resolveSupergraph } from '../supergraph/index.ts';
import { type Tracing, traceRequests } from '../telemetry/index.ts';
import { createContextBuilder } from './context.ts';
import { createHttpHandler } from './http-handler.ts';
import { createListener } from './listener.ts';
import { createGatewayMetrics } from './metrics.ts';
import { createOverloadGuard } from './overload.ts';
import { createPipeline } from './pipeline.ts';
import { createReadiness } from './readiness.ts';
import { createSupergraphWatch, syncPools } from './reload.ts';
import { createRoutes } from './routes.ts';
import { createRateLimitStore } from './stores.ts';
import { createSubscriptionServing, createUpstreams, type SubscriptionServing } from './subscriptions.ts';
import { type GatewayContext, type Logger, type ReadinessReport, silentLogger } from './types.ts';

export interface CreateGatewayOptions {
  config: GatewayConfig;
  logger?: Logger;
  /**
   * Re-reads the configuration on each supergraph poll (the CLI re-reads its config file), so subgraphs
   * added to it are picked up without a restart. @default the initial config, unchanged
   */
  reloadConfig?: () => GatewayConfig;
  /** The process's tracing (main.ts starts it): its export counters appear on GET /metrics. */
  tracing?: Tracing;
}

export interface Gateway {
  /** Starts listening; resolves to the GraphQL URL. */
  listen(port?: number, host?: string): Promise<string>;
  /** Stops accepting, lets in-flight requests finish (up to `graceMs`), then closes subgraph connections. */
  close(graceMs?: number): Promise<void>;
  readiness(): Promise<ReadinessReport>;
  readonly pools: ReadonlyMap<string, ReplicaPool>;
  readonly apollo: ApolloServer<GatewayContext>;
  /** The supergraph SDL now serving: the start-up one until a reload swaps in another. */
  readonly supergraphSdl: string;
  /** Requests run by Tollgate's executor and by Apollo's (introspection), and the serving planner. */
  readonly executorStats: Readonly<ExecutionStats>;
}

/** Builds the gateway (Apollo Server + Apollo Gateway over replica pools). It does not listen until told. */
export async function createGateway(options: CreateGatewayOptions): Promise<Gateway> {
  const { config } = options;
  const logger = options.logger ?? silentLogger;
  // First, so a bad server.tls file stops start-up (ConfigError) before anything connects or listens.
  // The handlers are bound below; nothing calls them before listen().
  const listener = createListener(
    config.server,
    {
      onRequest: (req, res) => void traced(req, res),
      onUpgrade: (req, socket, head) =>
        subscriptions ? subscriptions.handleUpgrade(req, socket, head) : socket.destroy(),
    },
    { logger },
  );
  // Subgraphs trust only what the gateway signs; without a secret, fetches go out unsigned.
  const decorate = config.auth.signing.secret
    ? createRequestSigner({ secret: config.auth.signing.secret })
    : undefined;
  if (!decorate)
    logger.warn('auth.signing.secret is not set: subgraph fetches are unsigned and carry no principal');
  const sign =
    decorate && ((headers: Record<string, string>, body: string) => decorate(headers, body, undefined));
  // From a URL, start-up waits (retrying) for a first usable supergraph rather than failing.
  const resolved = await resolveSupergraph(config, { sign, untilAvailable: { logger } });

  const log = (message: string, fields: Record<string, unknown>) => logger.warn(message, fields);
  const authentication = await createAuthentication(config.auth, { redisUrl: config.redis.url, log });
  const store = createRateLimitStore(config, logger);
  const persisted = createPersistedQueries<GatewayContext>(config.persistedQueries, {
    redisUrl: config.redis.url,
    log,
  });

  const pools = new Map<string, ReplicaPool>();
  let subscriptions: SubscriptionServing | undefined;
  syncPools(pools, resolved.replicas, config.pool, config.subgraphs);
  const { tracing } = options;
  const metrics = createGatewayMetrics({
    pools: () => [...pools.values()].map((pool) => pool.snapshot()),
    spans: tracing && (() => tracing.stats()),
    subscriptions: () => subscriptions?.stats(),
  });
  const watch = createSupergraphWatch({
    config,
    initial: resolved,
    reloadConfig: options.reloadConfig,
    sign,
    pools,
    logger,
    onReload: metrics.reload,
  });
  // The Hive planner is a native addon: loaded once, and if it cannot load here, apollo plans (one log line).
  const hive =
    config.supergraph.planner === 'hive' ? await loadHivePlanner((m) => logger.warn(m)) : undefined;
  const upstreams = config.subscriptions.enabled
    ? createUpstreams(config, pools, decorate, logger)
    : undefined;
  const pipeline = createPipeline({
    hive,
    config,
    initialSdl: resolved.sdl,
    supergraph: watch.hook,
    pools,
    decorate,
    store,
    persisted,
    metrics,
    logger,
    log,
    subscribe: upstreams?.subscribe,
  });
  const { apollo } = pipeline;
  await pipeline.start();

  const readiness = createReadiness({
    pools,
    status: watch.status,
    health: config.health,
    readiness: config.server.readiness,
  });
  // One probe round before serving, so /health/ready is right from the start; after that each pool runs
  // its own active health checks.
  await readiness.probeAll();
  watch.start();

  const overload = createOverloadGuard(config.server);
  // Deferred payloads and subscription events bypass Apollo Server, so their errors get the same
  // formatting as its own (options as in pipeline.ts: introspection off hides suggestions; development
  // shows internals).
  const format = {
    formatError: createFormatError({
      development: config.development,
      hideSuggestions: !(config.server.introspection ?? config.development),
      log: (message: string, error: unknown) =>
        logger.error(message, { error: error instanceof Error ? error.message : String(error) }),
    }),
    includeStacktrace: config.development,
  };
  subscriptions =
    upstreams &&
    createSubscriptionServing({
      config,
      apollo,
      authentication,
      upstreams,
      format,
      costModel: pipeline.costModel,
      store,
      rewriteRequest: persisted.rewriteRequest,
      overloaded: overload.overloaded,
      log,
    });
  const handler = createHttpHandler<GatewayContext>({
    server: apollo,
    context: createContextBuilder(authentication),
    maxBodyBytes: config.server.maxBodyBytes,
    maxConcurrent: overload.maxConcurrent,
    overloaded: overload.overloaded,
    maxBatchSize: config.server.batching ? config.limits.maxBatchSize : 0,
    rewriteRequest: persisted.rewriteRequest,
    formatError: format.formatError,
    includeStacktraceInErrorResponses: format.includeStacktrace,
    subscriptions: subscriptions?.http,
    ide: config.server.ide,
    routes: createRoutes({
      metrics,
      pools,
      readiness: readiness.report,
      adminToken: config.server.adminToken,
    }),
  });
  // Server span, traceparent response header and access log around every GraphQL request.
  const traced = traceRequests(handler, {
    debugHeader: config.telemetry.debugHeader,
    accessLog: config.telemetry.accessLog ? (entry) => logger.info('request', { ...entry }) : undefined,
  });

  return {
    pools,
    apollo,
    get supergraphSdl() {
      return watch.servingSdl;
    },
    executorStats: pipeline.executorStats,
    readiness: readiness.report,
    async listen(port = config.server.port, host = config.server.host) {
      return `${await listener.listen(port, host)}/graphql`;
    },
    async close(graceMs = config.server.shutdownGraceMs) {
      readiness.close();
      overload.stop();
      watch.stop();
      // Subscriptions first: open streams would hold the drain for its whole grace period, and it would
      // cut upgraded sockets without the "going away" that makes clients reconnect elsewhere.
      await subscriptions?.close();
      await listener.close(graceMs);
      await apollo.stop();
      await Promise.all([...pools.values()].map((p) => p.close()));
      await Promise.allSettled([authentication.close(), store.close(), persisted.close()]);
    },
  };
}
