import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ApolloServer } from '@apollo/server';
import { sendJson } from '@tollgate/kit/http';
import { type Admission, createAdmission } from '../admission/index.ts';
import { createAuthentication, createRequestSigner } from '../auth/index.ts';
import { createClientAddressResolver } from '../client-address/index.ts';
import type { GatewayConfig } from '../config/index.ts';
import { withCors } from '../cors/index.ts';
import { ErrorCode } from '../errors/index.ts';
import type { ExecutionStats } from '../executor/index.ts';
import { createHeaderRules, unknownSubgraphNames } from '../headers/index.ts';
import { createPersistedQueries } from '../persisted/index.ts';
import { loadHivePlanner } from '../planner/index.ts';
import type { ReplicaPool } from '../pool/index.ts';
import type { RateLimitStore } from '../ratelimit/index.ts';
import { createRouter, unknownSubgraphs } from '../routing/index.ts';
import { resolveSupergraph } from '../supergraph/index.ts';
import { type Tracing, traceRequests } from '../telemetry/index.ts';
import { createAdminListener, listenBeside } from './admin.ts';
import { createContextBuilder } from './context.ts';
import { createHttpHandler } from './http-handler.ts';
import { createListener } from './listener.ts';
import { createGatewayMetrics, type GatewayMetrics } from './metrics.ts';
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
  /**
   * Admission to share with other graphs (one process, one capacity); its metrics are then the
   * caller's to show. @default its own, shown on this gateway's /metrics
   */
  admission?: Admission;
}

export interface Gateway {
  /**
   * Starts listening, and the admin listener beside it (`server.adminPort`); resolves to the GraphQL URL.
   */
  listen(port?: number, host?: string): Promise<string>;
  /**
   * The admin listener's origin once listening (GET /metrics, /admin/*, /health/*), as
   * `http://127.0.0.1:9090`; undefined for a graph served by graphs-gateway.ts, whose own it is.
   */
  readonly adminUrl: string | undefined;
  /** Stops accepting, lets in-flight requests finish (up to `graceMs`), then closes subgraph connections. */
  close(graceMs?: number): Promise<void>;
  readiness(): Promise<ReadinessReport>;
  readonly pools: ReadonlyMap<string, ReplicaPool>;
  readonly apollo: ApolloServer<GatewayContext>;
  /** The supergraph SDL now serving: the start-up one until a reload swaps in another. */
  readonly supergraphSdl: string;
  /** Requests run by Tollgate's executor and by Apollo's (introspection), and the serving planner. */
  readonly executorStats: Readonly<ExecutionStats>;
  /** Requests that ran without Apollo Server's pipeline (operations it had prepared before). */
  readonly directStats: Readonly<{ direct: number }>;
  /** Serves one HTTP request (GraphQL, the IDE, health), for a server of the caller's (no admin routes). */
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
  // First, so a bad server.tls file stops start-up (ConfigError) before anything connects or listens.
  // The handlers are bound below; nothing calls them before listen().
  const listener = createListener(
    config.server,
    {
      onRequest: (req, res) => void serve(req, res),
      onUpgrade: (req, socket, head) => handleUpgrade(req, socket, head),
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
  const store = options.rateLimitStore ?? createRateLimitStore(config, logger);
  const persisted = createPersistedQueries<GatewayContext>(config.persistedQueries, {
    redisUrl: config.redis.url,
    log,
  });

  const pools = new Map<string, ReplicaPool>();
  let subscriptions: SubscriptionServing | undefined;
  syncPools(pools, resolved.replicas, config.pool, config.subgraphs);
  for (const warning of unknownSubgraphs(config.routing, pools.keys())) logger.warn(warning);
  const { tracing } = options;
  const admission = options.admission ?? createAdmission(config.server);
  // the connection cap guards the listener this graph serves on (several graphs: their shared one)
  if (!options.admission) admission.guard(listener.server);
  const metrics = createGatewayMetrics({
    admission: options.admission ? undefined : admission.snapshot,
    pools: () => [...pools.values()].map((pool) => pool.snapshot()),
    spans: tracing && (() => tracing.stats()),
    subscriptions: () => subscriptions?.stats(),
    auth: () => authentication.stats(),
    graph: options.graph?.name,
  });
  // routing.rules follow a config reload, so a weight can be raised without a restart
  let router = createRouter(config.routing);
  const watch = createSupergraphWatch({
    onConfig: (next) => {
      router = createRouter(next.routing);
    },
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

  // One answer per request to "who is the client" (server.trustedProxies): budgets, logs, spans agree.
  const clientAddress = createClientAddressResolver({
    trustedProxies: config.server.trustedProxies,
    header: config.server.clientAddressHeader,
  });
  // Deferred payloads and subscription events bypass Apollo Server: their errors are formatted as its own.
  const { format } = pipeline;
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
      overloaded: admission.overloaded,
      log,
      path,
      clientAddress,
    });
  const routes = createRoutes({
    metrics,
    pools,
    readiness: readiness.report,
    adminToken: config.server.adminToken,
  });
  // One graph of several: graphs-gateway.ts serves the admin routes over all of them.
  const admin = options.graph ? undefined : createAdminListener(routes.admin, { logger });
  const handler = createHttpHandler<GatewayContext>({
    server: apollo,
    path,
    context: createContextBuilder(authentication, () => router, clientAddress),
    maxBodyBytes: config.server.maxBodyBytes,
    admission,
    maxBatchSize: config.server.batching ? config.limits.maxBatchSize : 0,
    rewriteRequest: persisted.rewriteRequest,
    formatError: format.formatError,
    includeStacktraceInErrorResponses: format.includeStacktrace,
    subscriptions: subscriptions?.http,
    ide: config.server.ide,
    routes: routes.public,
    direct: pipeline.direct,
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
  // Once the drain is over Apollo Server stops; a request that still reaches this gateway (a caller's own
  // server, or a socket the drain cut mid-body) gets a 503 that sends it elsewhere, never Apollo's 500.
  let stopped = false;
  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!stopped) return traced(req, res);
    req.resume();
    sendJson(
      res,
      503,
      {
        errors: [
          { message: 'The gateway is shutting down; retry', extensions: { code: ErrorCode.OVERLOADED } },
        ],
      },
      { 'retry-after': '1', connection: 'close' },
    );
  };
  const handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (subscriptions && !stopped) subscriptions.handleUpgrade(req, socket, head);
    else socket.destroy();
  };

  const shutdown = async (drainHttp: () => Promise<void>) => {
    readiness.close();
    admission.close();
    watch.stop();
    // Subscriptions first: open streams would hold the drain for its whole grace period, and it would
    // cut upgraded sockets without the "going away" that makes clients reconnect elsewhere.
    await subscriptions?.close();
    // Takes as long as the slowest request in flight, not the whole grace period; cuts none (drain.ts).
    await drainHttp();
    // Only now: the drain has answered every request it let in (shutdown order, docs/reliability.md).
    stopped = true;
    await apollo.stop();
    await Promise.all([...pools.values()].map((p) => p.close()));
    await Promise.allSettled([authentication.close(), store.close(), persisted.close()]);
    if (!options.admission) admission.stop();
    // last: metrics and readiness stay readable while the gateway drains
    await admin?.close();
  };
  return {
    pools,
    apollo,
    get supergraphSdl() {
      return watch.servingSdl;
    },
    executorStats: pipeline.executorStats,
    directStats: pipeline.direct.stats,
    readiness: readiness.report,
    metrics,
    handle: serve,
    handleUpgrade,
    get adminUrl() {
      return admin?.url;
    },
    async listen(port = config.server.port, host = config.server.host) {
      const url = `${await listener.listen(port, host)}${path}`;
      if (admin) await listenBeside(admin, config.server, port, () => listener.close(0));
      return url;
    },
    shutdown,
    close: (graceMs = config.server.shutdownGraceMs) => shutdown(() => listener.close(graceMs)),
  };
}
