import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import type { GatewayInterface } from '@apollo/server-gateway-interface';
import { context as otelContext } from '@opentelemetry/api';
import { createHttpDrain, type HttpDrain } from '@tollgate/kit/drain';
import {
  buildAccessRules,
  createAuthentication,
  createAuthorization,
  createRequestSigner,
  type Principal,
} from '../auth/index.ts';
import type { GatewayConfig } from '../config/index.ts';
import { buildCostModel, createCostPlugin, requestCost } from '../cost/index.ts';
import { createFormatError, ErrorCode } from '../errors/index.ts';
import { createFastExecution, type FastExecutorStats } from '../executor/index.ts';
import { createLimitsRule } from '../limits/index.ts';
import { createPersistedQueries } from '../persisted/index.ts';
import { poolAdminView, ReplicaDataSource, ReplicaPool, type ReplicaStats } from '../pool/index.ts';
import {
  createMemoryStore,
  createRateLimitPlugin,
  createRedisStore,
  createResilientStore,
  type RateLimitStore,
} from '../ratelimit/index.ts';
import { gatewaySafeSdl, resolveSupergraph } from '../supergraph/index.ts';
import {
  annotateRequest,
  bindRecord,
  createTelemetryPlugin,
  recordOf,
  type Tracing,
  traceContextOf,
  traceExecution,
  traceRequests,
} from '../telemetry/index.ts';
import { createHttpHandler } from './http-handler.ts';
import { createGatewayMetrics } from './metrics.ts';

/** Per-request context every plugin sees. */
export interface GatewayContext {
  [key: string]: unknown;
  /** Who is calling (set before anything else runs). */
  principal: Principal;
  /** The client's address: the budget key of anonymous callers. */
  clientAddress: string;
}

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

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

export interface SupergraphStatus {
  /** When the serving supergraph was loaded (ms since the epoch). */
  loadedAt: number;
  /** Successful swaps since start. */
  reloads: number;
  /** Reloads refused (composition or config errors); the previous supergraph kept serving. */
  failures: number;
  /** Why the last reload was refused, until one succeeds. */
  lastError: string | null;
}

export interface ReadinessReport {
  ready: boolean;
  /** `degraded`: ready, but some subgraph has no replica up (`server.readiness: gateway`). */
  state: 'ready' | 'degraded' | 'not ready';
  supergraph: SupergraphStatus;
  subgraphs: Record<string, { ready: boolean; replicas: ReplicaStats[] }>;
  /** Replicas that did not answer the last probe, as `subgraph url`. */
  down: string[];
}

export interface Gateway {
  /** Starts listening; resolves to the GraphQL URL. */
  listen(port?: number, host?: string): Promise<string>;
  /** Stops accepting, lets in-flight requests finish (up to `graceMs`), then closes subgraph connections. */
  close(graceMs?: number): Promise<void>;
  readiness(): Promise<ReadinessReport>;
  readonly pools: ReadonlyMap<string, ReplicaPool>;
  readonly apollo: ApolloServer<GatewayContext>;
  readonly supergraphSdl: string;
  /** Requests run by Tollgate's executor and by Apollo's (undefined with `server.executor: apollo`). */
  readonly executorStats: Readonly<FastExecutorStats> | undefined;
}

/** Event-loop lag over the last second, as a load-shedding signal (REFERENCE.md §4, issue 9). */
function watchEventLoopLag(maxLagMs: number) {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  let lastWindow = 0;
  const timer = setInterval(() => {
    lastWindow = histogram.percentile(99) / 1e6;
    histogram.reset();
  }, 1_000);
  timer.unref();
  return {
    // the window just closed, or the one running: a stall shows up as soon as the loop samples it
    get overloaded() {
      return Math.max(lastWindow, histogram.percentile(99) / 1e6) > maxLagMs;
    },
    stop() {
      clearInterval(timer);
      histogram.disable();
    },
  };
}

/** The admin surface: with a token configured, that bearer token; without one, loopback clients only. */
function adminAllowed(req: IncomingMessage, token: string | undefined): boolean {
  if (token) {
    const given = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
    const a = Buffer.from(given);
    const b = Buffer.from(token);
    return a.length === b.length && timingSafeEqual(a, b);
  }
  const from = req.socket.remoteAddress ?? '';
  return from === '127.0.0.1' || from === '::1' || from === '::ffff:127.0.0.1';
}

function headerSource(req: IncomingMessage) {
  return {
    get(name: string): string | undefined {
      const value = req.headers[name.toLowerCase()];
      return Array.isArray(value) ? value.join(', ') : value;
    },
  };
}

const silent: Logger = { info() {}, warn() {}, error() {} };

/**
 * When every subgraph fetch failed and nothing came back, the response is an outage, not partial data:
 * answer 503 (DESIGN.md). With any data at all it stays 200.
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

/** Builds the gateway (Apollo Server + Apollo Gateway over replica pools). It does not listen until told. */
export async function createGateway(options: CreateGatewayOptions): Promise<Gateway> {
  const { config } = options;
  const logger = options.logger ?? silent;
  // Subgraphs trust only what the gateway signs; without a secret, fetches go out unsigned.
  const decorate = config.auth.signing.secret
    ? createRequestSigner({ secret: config.auth.signing.secret })
    : undefined;
  if (!decorate)
    logger.warn('auth.signing.secret is not set: subgraph fetches are unsigned and carry no principal');
  const sign =
    decorate && ((headers: Record<string, string>, body: string) => decorate(headers, body, undefined));
  const resolved = await resolveSupergraph(config, { sign });

  const log = (message: string, fields: Record<string, unknown>) => logger.warn(message, fields);
  const authentication = await createAuthentication(config.auth, { redisUrl: config.redis.url, log });
  let costModel = buildCostModel(resolved.sdl);
  let accessRules = buildAccessRules(resolved.sdl);
  const authorization = createAuthorization<GatewayContext>({ rules: () => accessRules });
  const store: RateLimitStore = config.redis.url
    ? createResilientStore({
        primary: createRedisStore({
          url: config.redis.url,
          timeoutMs: config.ratelimit.redisTimeoutMs,
          keyPrefix: config.ratelimit.keyPrefix,
        }),
        failureMode: config.ratelimit.failureMode,
        fallbackShare: config.ratelimit.fallbackShare,
        timeoutMs: config.ratelimit.redisTimeoutMs,
        onError: (error) =>
          logger.error('rate limiter store failing; using the fallback policy', {
            error: error.message,
            failureMode: config.ratelimit.failureMode,
          }),
      })
    : createMemoryStore();
  const costDeps = { model: () => costModel };
  const persisted = createPersistedQueries<GatewayContext>(config.persistedQueries, {
    redisUrl: config.redis.url,
    log,
  });
  // Production answers no introspection and gives no "Did you mean …" hints (issue 9).
  const introspection = config.server.introspection ?? config.development;

  const pools = new Map<string, ReplicaPool>();
  // Brings the pools in line with a (re)resolved supergraph: new subgraphs get a pool, replica lists follow.
  const syncPools = (replicas: ReadonlyMap<string, readonly string[]>, poolConfig: GatewayConfig['pool']) => {
    for (const [name, urls] of replicas) {
      const pool = pools.get(name);
      if (!pool) {
        pools.set(name, new ReplicaPool(name, urls, poolConfig));
        continue;
      }
      const current = pool.replicas;
      for (const url of urls) if (!current.includes(url)) pool.addReplica(url);
      for (const url of current) if (!urls.includes(url)) void pool.removeReplica(url);
    }
  };
  syncPools(resolved.replicas, config.pool);
  const tracing = options.tracing;
  const metrics = createGatewayMetrics({
    pools: () => [...pools.values()].map((pool) => pool.snapshot()),
    spans: tracing && (() => tracing.stats()),
  });

  let updateSupergraph: ((sdl: string) => void) | undefined;
  let servingSdl = resolved.sdl;
  const status: SupergraphStatus = { loadedAt: Date.now(), reloads: 0, failures: 0, lastError: null };
  const apolloGateway = new ApolloGateway({
    // The function form hands us `update`, with which the watcher swaps in a new supergraph: requests in
    // flight finish on the plan they have, new ones get the new supergraph (SEAMS.md §5).
    supergraphSdl: async ({ update }) => {
      updateSupergraph = update;
      return { supergraphSdl: gatewaySafeSdl(resolved.sdl) };
    },
    buildService: ({ name }) => {
      const pool = pools.get(name);
      if (!pool) throw new Error(`no replica pool for subgraph ${name}`);
      return new ReplicaDataSource<GatewayContext>({ pool, decorate });
    },
    logger: {
      debug() {},
      info() {},
      warn: (m: unknown) => logger.warn(String(m)),
      error: (m: unknown) => logger.error(String(m)),
    },
  });

  // Apollo's planner plans; Tollgate's executor runs the plans (issue 10), unless configured otherwise.
  const fast = config.server.executor === 'tollgate' ? createFastExecution(apolloGateway) : undefined;
  const apollo = new ApolloServer<GatewayContext>({
    // ApolloGateway implements server-gateway-interface 1.x, structurally the same as the 2.x Apollo Server 5 takes.
    gateway: traceExecution(
      authorization.wrap(
        fast
          ? fast.wrap(apolloGateway as unknown as GatewayInterface)
          : (apolloGateway as unknown as GatewayInterface),
      ),
    ),
    csrfPrevention: true,
    parseOptions: { maxTokens: config.limits.maxTokens },
    validationRules: [createLimitsRule(config.limits)],
    introspection,
    hideSchemaDetailsFromClientErrors: !introspection,
    allowBatchedHttpRequests: config.server.batching,
    persistedQueries: persisted.apolloOption,
    includeStacktraceInErrorResponses: config.development,
    formatError: createFormatError({
      development: config.development,
      hideSuggestions: !introspection,
      log: (message, error) =>
        logger.error(message, { error: error instanceof Error ? error.message : String(error) }),
    }),
    plugins: [
      ApolloServerPluginLandingPageDisabled(),
      ApolloServerPluginUsageReportingDisabled(),
      ApolloServerPluginSchemaReportingDisabled(),
      ApolloServerPluginInlineTraceDisabled(),
      ApolloServerPluginCacheControlDisabled(),
      unavailableStatus,
      createTelemetryPlugin<GatewayContext>(config.telemetry),
      ...(persisted.plugin ? [persisted.plugin] : []),
      authorization.plugin,
      // cost.mode off: no cost limit and no extensions.cost (rate limits, if on, still charge estimates)
      ...(config.cost.mode === 'off' ? [] : [createCostPlugin<GatewayContext>(config.cost, costDeps)]),
      ...(config.ratelimit.enabled
        ? [
            createRateLimitPlugin<GatewayContext>(config.ratelimit, {
              store,
              mode: config.cost.mode === 'measure' ? 'measure' : 'enforce',
              costOf: (rc) => requestCost(rc, config.cost, costDeps),
              log,
              onDecision: metrics.rateLimitDecision,
            }),
          ]
        : []),
      // last: it reads the status and extensions.cost the plugins above set
      metrics.plugin,
    ],
  });
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

  let probing: Promise<void> | undefined;
  const probeAll = () => {
    probing ??= Promise.all([...pools.values()].map((p) => p.probe(config.health.probeTimeoutMs)))
      .then(() => undefined)
      .finally(() => {
        probing = undefined;
      });
    return probing;
  };
  // One probe round before serving, so /health/ready is right from the start; after that each pool runs
  // its own active health checks.
  await probeAll();

  // Supergraph watch: re-resolve the source of truth; swap when it changed, keep serving the old one
  // when it no longer composes (and say why on /health/ready).
  let reloading = false;
  const reload = async () => {
    if (reloading) return;
    reloading = true;
    try {
      const next = options.reloadConfig?.() ?? config;
      const fresh = await resolveSupergraph(next, { sign });
      syncPools(fresh.replicas, next.pool);
      if (fresh.sdl !== servingSdl) {
        if (!updateSupergraph) throw new Error('the gateway is not ready for updates yet');
        updateSupergraph(gatewaySafeSdl(fresh.sdl)); // throws, without swapping, on an unusable supergraph
        servingSdl = fresh.sdl;
        status.loadedAt = Date.now();
        status.reloads++;
        logger.info('supergraph updated', { subgraphs: [...fresh.replicas.keys()] });
        metrics.reload(true);
      }
      status.lastError = null;
    } catch (error) {
      status.failures++;
      metrics.reload(false);
      const message = error instanceof Error ? error.message : String(error);
      if (status.lastError !== message)
        logger.error('supergraph reload refused; the previous supergraph keeps serving', { error: message });
      status.lastError = message;
    } finally {
      reloading = false;
    }
  };
  const watcher = config.supergraph.watch
    ? setInterval(() => void reload(), config.supergraph.pollIntervalMs)
    : undefined;
  watcher?.unref();

  let closing = false;
  const readiness = async (): Promise<ReadinessReport> => {
    const subgraphs: ReadinessReport['subgraphs'] = {};
    const down: string[] = [];
    for (const [name, pool] of pools) {
      const replicas = pool.stats();
      for (const r of replicas) if (r.up === false) down.push(`${name} ${r.url}`);
      subgraphs[name] = { ready: replicas.some((r) => r.up !== false), replicas };
    }
    const everySubgraph = Object.values(subgraphs).every((s) => s.ready);
    // By default a subgraph that is down everywhere degrades answers but leaves the gateway in rotation:
    // failing every gateway's readiness for it would turn a partial outage into a total one.
    const ready = !closing && (everySubgraph || config.server.readiness === 'gateway');
    const state = !ready ? 'not ready' : everySubgraph ? 'ready' : 'degraded';
    return { ready, state, supergraph: { ...status }, subgraphs, down };
  };

  const lag =
    config.server.maxEventLoopLagMs > 0 ? watchEventLoopLag(config.server.maxEventLoopLagMs) : undefined;
  const handler = createHttpHandler<GatewayContext>({
    server: apollo,
    context: async (req: IncomingMessage) => {
      // the auth span's parent is the request's span (no async-context store: passed, not inherited)
      const principal = await otelContext.with(traceContextOf(req) ?? otelContext.active(), () =>
        authentication.authenticate(headerSource(req)),
      );
      const context: GatewayContext = { principal, clientAddress: req.socket.remoteAddress ?? 'unknown' };
      // the request's telemetry record (access log, span attributes), for the plugins that fill it in
      bindRecord(context, recordOf(req));
      annotateRequest(req, { principal: principal.id, principalKind: principal.kind });
      return context;
    },
    maxBodyBytes: config.server.maxBodyBytes,
    maxConcurrent: config.server.maxConcurrentRequests,
    overloaded: lag ? () => lag.overloaded : undefined,
    maxBatchSize: config.server.batching ? config.limits.maxBatchSize : 0,
    rewriteRequest: persisted.rewriteRequest,
    ide: config.server.ide,
    routes: {
      '/health/live': async () => ({ status: 200, body: { status: 'live' } }),
      '/metrics': async () => ({
        status: 200,
        body: await metrics.scrape(),
        contentType: metrics.contentType,
      }),
      '/admin/pool': async (req) => {
        if (!adminAllowed(req, config.server.adminToken))
          return {
            status: 403,
            body: { error: 'admin routes need the admin token (server.adminToken) or a loopback client' },
          };
        return { status: 200, body: poolAdminView(pools) };
      },
      '/health/ready': async () => {
        const report = await readiness();
        return {
          status: report.ready ? 200 : 503,
          body: { status: report.state, ...report },
        };
      },
    },
  });

  // Server span, traceparent response header and access log around every GraphQL request.
  const traced = traceRequests(handler, {
    debugHeader: config.telemetry.debugHeader,
    accessLog: config.telemetry.accessLog ? (entry) => logger.info('request', { ...entry }) : undefined,
  });
  let http: Server | undefined;
  let drain: HttpDrain | undefined;
  return {
    pools,
    apollo,
    supergraphSdl: resolved.sdl,
    executorStats: fast?.stats,
    readiness,
    async listen(port = config.server.port, host = config.server.host) {
      http = createServer({ keepAliveTimeout: 65_000 }, (req, res) => void traced(req, res));
      drain = createHttpDrain(http);
      await new Promise<void>((resolve, reject) => {
        http!.once('error', reject);
        http!.listen(port, host, () => resolve());
      });
      const address = http.address() as AddressInfo;
      const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
      return `http://${shown}:${address.port}/graphql`;
    },
    async close(graceMs = config.server.shutdownGraceMs) {
      closing = true;
      lag?.stop();
      clearInterval(watcher);
      // Takes as long as the slowest request in flight, not the whole grace period; cuts none (drain.ts).
      await drain?.close({ graceMs });
      await apollo.stop();
      await Promise.all([...pools.values()].map((p) => p.close()));
      await Promise.allSettled([authentication.close(), store.close(), persisted.close()]);
    },
  };
}
