import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import type { IncomingMessage } from 'node:http';
import type { GatewayInterface } from '@apollo/server-gateway-interface';
import { buildAccessRules, createAuthentication, createAuthorization, type Principal } from '../auth/index.ts';
import type { GatewayConfig } from '../config/index.ts';
import { buildCostModel, createCostPlugin, requestCost } from '../cost/index.ts';
import { createFormatError, ErrorCode } from '../errors/index.ts';
import {
  createMemoryStore,
  createRateLimitPlugin,
  createRedisStore,
  createResilientStore,
  type RateLimitStore,
} from '../ratelimit/index.ts';
import { ReplicaDataSource, ReplicaPool, type ReplicaStats } from '../pool/index.ts';
import { gatewaySafeSdl, resolveSupergraph } from '../supergraph/index.ts';
import { createHttpHandler } from './http-handler.ts';

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
}

export interface ReadinessReport {
  ready: boolean;
  supergraph: boolean;
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
        if (!errors?.length || !errors.every((e) => e.extensions?.code === ErrorCode.SUBGRAPH_UNAVAILABLE)) return;
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
  const resolved = await resolveSupergraph(config);

  const log = (message: string, fields: Record<string, unknown>) => logger.warn(message, fields);
  const authentication = await createAuthentication(config.auth, { redisUrl: config.redis.url, log });
  let costModel = buildCostModel(resolved.sdl);
  let accessRules = buildAccessRules(resolved.sdl);
  const authorization = createAuthorization<GatewayContext>({ rules: () => accessRules });
  const store: RateLimitStore = config.redis.url
    ? createResilientStore({
        primary: createRedisStore({ url: config.redis.url, timeoutMs: config.ratelimit.redisTimeoutMs, keyPrefix: config.ratelimit.keyPrefix }),
        failureMode: config.ratelimit.failureMode,
        fallbackShare: config.ratelimit.fallbackShare,
        timeoutMs: config.ratelimit.redisTimeoutMs,
        onError: (error) => logger.error('rate limiter store failing; using the fallback policy', { error: error.message, failureMode: config.ratelimit.failureMode }),
      })
    : createMemoryStore();
  const costDeps = { model: () => costModel };

  const pools = new Map<string, ReplicaPool>();
  for (const [name, urls] of resolved.replicas) {
    pools.set(name, new ReplicaPool(name, urls, config.pool));
  }

  const apolloGateway = new ApolloGateway({
    supergraphSdl: gatewaySafeSdl(resolved.sdl),
    buildService: ({ name }) => {
      const pool = pools.get(name);
      if (!pool) throw new Error(`no replica pool for subgraph ${name}`);
      return new ReplicaDataSource<GatewayContext>({ pool });
    },
    logger: { debug() {}, info() {}, warn: (m: unknown) => logger.warn(String(m)), error: (m: unknown) => logger.error(String(m)) },
  });

  const apollo = new ApolloServer<GatewayContext>({
    // ApolloGateway implements server-gateway-interface 1.x, structurally the same as the 2.x Apollo Server 5 takes.
    gateway: authorization.wrap(apolloGateway as unknown as GatewayInterface),
    csrfPrevention: true,
    introspection: true,
    includeStacktraceInErrorResponses: config.development,
    formatError: createFormatError({
      development: config.development,
      log: (message, error) => logger.error(message, { error: error instanceof Error ? error.message : String(error) }),
    }),
    plugins: [
      ApolloServerPluginLandingPageDisabled(),
      ApolloServerPluginUsageReportingDisabled(),
      ApolloServerPluginSchemaReportingDisabled(),
      ApolloServerPluginInlineTraceDisabled(),
      ApolloServerPluginCacheControlDisabled(),
      unavailableStatus,
      authorization.plugin,
      createCostPlugin<GatewayContext>(config.cost, costDeps),
      ...(config.ratelimit.enabled
        ? [
            createRateLimitPlugin<GatewayContext>(config.ratelimit, {
              store,
              mode: config.cost.mode,
              costOf: (rc) => requestCost(rc, config.cost, costDeps),
              log,
            }),
          ]
        : []),
    ],
  });
  await apollo.start();
  apolloGateway.onSchemaLoadOrUpdate(({ coreSupergraphSdl }) => {
    try {
      costModel = buildCostModel(coreSupergraphSdl);
      accessRules = buildAccessRules(coreSupergraphSdl);
    } catch (error) {
      logger.error('cost model or access rules not updated; keeping the previous ones', { error: (error as Error).message });
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
  await probeAll();
  const timer = setInterval(() => void probeAll(), config.health.probeIntervalMs);
  timer.unref();

  let closing = false;
  const readiness = async (): Promise<ReadinessReport> => {
    const subgraphs: ReadinessReport['subgraphs'] = {};
    const down: string[] = [];
    for (const [name, pool] of pools) {
      const replicas = pool.stats();
      for (const r of replicas) if (r.up === false) down.push(`${name} ${r.url}`);
      subgraphs[name] = { ready: replicas.some((r) => r.up !== false), replicas };
    }
    const ready = !closing && Object.values(subgraphs).every((s) => s.ready);
    return { ready, supergraph: true, subgraphs, down };
  };

  const handler = createHttpHandler<GatewayContext>({
    server: apollo,
    context: async (req: IncomingMessage) => ({
      principal: await authentication.authenticate(headerSource(req)),
      clientAddress: req.socket.remoteAddress ?? 'unknown',
    }),
    maxBodyBytes: config.server.maxBodyBytes,
    ide: config.server.ide,
    routes: {
      '/health/live': async () => ({ status: 200, body: { status: 'live' } }),
      '/health/ready': async () => {
        const report = await readiness();
        return { status: report.ready ? 200 : 503, body: { status: report.ready ? 'ready' : 'not ready', ...report } };
      },
    },
  });

  let http: Server | undefined;
  return {
    pools,
    apollo,
    supergraphSdl: resolved.sdl,
    readiness,
    async listen(port = config.server.port, host = config.server.host) {
      http = createServer({ keepAliveTimeout: 65_000 }, (req, res) => void handler(req, res));
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
      clearInterval(timer);
      if (http) {
        const server = http;
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const deadline = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
        await Promise.race([closed, deadline]);
        server.closeAllConnections();
      }
      await apollo.stop();
      await Promise.all([...pools.values()].map((p) => p.close()));
      await Promise.allSettled([authentication.close(), store.close()]);
    },
  };
}
