import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ApolloServer } from '@apollo/server';
import { createHttpDrain, type HttpDrain } from '@tollgate/kit/drain';
import { createAuthentication, createRequestSigner } from '../auth/index.ts';
import { createClientAddressResolver } from '../client-address/index.ts';
import type { GatewayConfig } from '../config/index.ts';
import { createFormatError } from '../errors/index.ts';
import type { ExecutionStats } from '../executor/index.ts';
import { createHeaderRules, unknownSubgraphNames } from '../headers/index.ts';
import { createPersistedQueries } from '../persisted/index.ts';
import { loadHivePlanner } from '../planner/index.ts';
import type { ReplicaPool } from '../pool/index.ts';
import type { RateLimitStore } from '../ratelimit/index.ts';
import { resolveSupergraph } from '../supergraph/index.ts';
import { type Tracing, traceRequests } from '../telemetry/index.ts';
import { createContextBuilder } from './context.ts';
import { withCors } from './cors-handler.ts';
import { createHttpHandler } from './http-handler.ts';
import { createGatewayMetrics, type GatewayMetrics } from './metrics.ts';
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
  /**
   * This gateway as one graph of several (graphs-gateway.ts): served on `path`, its metrics labelled
   * `graph="<name>"` and without the process-wide ones. @default one graph on /graphql
   */
  graph?: { name: string; path: string };
  /** The rate-limit store to charge (graphs share one, namespaced); closed by its owner. @default its own */
  rateLimitStore?: RateLimitStore;
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
  /** Serves one HTTP request (GraphQL, the IDE, health, metrics, admin), for a server of the caller's. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Takes an HTTP `upgrade` (WebSocket subscriptions on the GraphQL path); refuses it when they are off. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
}

/** A gateway as graphs-gateway.ts serves it: the public surface plus its metrics, to scrape as one. */
export interface GraphGateway extends Gateway {
  readonly metrics: GatewayMetrics;
  /** close() with the caller's listener drained in place of its own, at the same point of the sequence. */
  shutdown(drainHttp: () => Promise<void>): Promise<void>;
}

/** Builds the gateway (Apollo Server + Apollo Gateway over replica pools). It does not listen until told. */
export async function createGateway(options: CreateGatewayOptions): Promise<Gateway> {
  return createGraphGateway(options);
}

/** createGateway, with what serving it beside other graphs needs (graphs-gateway.ts). */
export async function createGraphGateway(options: CreateGatewayOptions): Promise<GraphGateway> {
  const { config } = options;
  const path = options.graph?.path ?? '/graphql';
  const logger = options.logger ?? silentLogger;
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
  const store = options.rateLimitStore ?? createRateLimitStore(config, logger);
  const persisted = createPersistedQueries<GatewayContext>(config.persistedQueries, {
    redisUrl: config.redis.url,
    log,
  });

  const pools = new Map<string, ReplicaPool>();
  let subscriptions: SubscriptionServing | undefined;
  syncPools(pools, resolved.replicas, config.pool);
  const { tracing } = options;
  const metrics = createGatewayMetrics({
    pools: () => [...pools.values()].map((pool) => pool.snapshot()),
    spans: tracing && (() => tracing.stats()),
    subscriptions: () => subscriptions?.stats(),
    auth: () => authentication.stats(),
    graph: options.graph?.name,
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
  // `headers` rules, applied to every subgraph fetch and subscription before it is signed
  const headerRules = createHeaderRules(config.headers);
  for (const name of unknownSubgraphNames(config.headers, pools.keys()))
    logger.warn(`headers.subgraphs.${name} names no subgraph of the supergraph: its rules apply to none`);
  const upstreams = config.subscriptions.enabled
    ? createUpstreams(config, pools, decorate, logger, headerRules)
    : undefined;
  const pipeline = createPipeline({
    hive,
    config,
    initialSdl: resolved.sdl,
    supergraph: watch.hook,
    pools,
    decorate,
    headerRules,
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
  // One answer per request to "who is the client" (server.trustedProxies): budgets, logs, spans agree.
  const clientAddress = createClientAddressResolver({
    trustedProxies: config.server.trustedProxies,
    header: config.server.clientAddressHeader,
  });
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
      path,
      clientAddress,
    });
  const handler = createHttpHandler<GatewayContext>({
    server: apollo,
    path,
    context: createContextBuilder(authentication, clientAddress),
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
  // Server span, traceparent response header and access log around every GraphQL request; CORS outside
  // it, so preflights (answered there, never by Apollo Server) are neither spans nor access-log lines.
  const traced = withCors(
    traceRequests(handler, {
      debugHeader: config.telemetry.debugHeader,
      accessLog: config.telemetry.accessLog ? (entry) => logger.info('request', { ...entry }) : undefined,
      path,
      clientAddress,
      baggageAllowKeys: config.telemetry.baggage.allowKeys,
    }),
    config.server.cors,
  );
  const handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (subscriptions) subscriptions.handleUpgrade(req, socket, head);
    else socket.destroy();
  };

  let http: Server | undefined;
  let drain: HttpDrain | undefined;
  const shutdown = async (drainHttp: () => Promise<void>) => {
    readiness.close();
    overload.stop();
    watch.stop();
    // Subscriptions first: open streams would hold the drain for its whole grace period, and it would
    // cut upgraded sockets without the "going away" that makes clients reconnect elsewhere.
    await subscriptions?.close();
    // Takes as long as the slowest request in flight, not the whole grace period; cuts none (drain.ts).
    await drainHttp();
    await apollo.stop();
    await Promise.all([...pools.values()].map((p) => p.close()));
    await Promise.allSettled([authentication.close(), store.close(), persisted.close()]);
  };
  return {
    pools,
    apollo,
    get supergraphSdl() {
      return watch.servingSdl;
    },
    executorStats: pipeline.executorStats,
    readiness: readiness.report,
    metrics,
    handle: traced,
    handleUpgrade,
    async listen(port = config.server.port, host = config.server.host) {
      http = createServer({ keepAliveTimeout: 65_000 }, (req, res) => void traced(req, res));
      http.on('upgrade', handleUpgrade);
      drain = createHttpDrain(http);
      await new Promise<void>((resolve, reject) => {
        http!.once('error', reject);
        http!.listen(port, host, () => resolve());
      });
      const address = http.address() as AddressInfo;
      const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
      return `http://${shown}:${address.port}${path}`;
    },
    shutdown,
    close: (graceMs = config.server.shutdownGraceMs) =>
      shutdown(async () => {
        await drain?.close({ graceMs });
      }),
  };
}
