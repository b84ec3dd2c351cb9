import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { sendJson } from '@tollgate/kit/http';
import { AggregatorRegistry } from 'prom-client';
import { createAdmission } from '../admission/index.ts';
import { type GatewayConfig, graphConfigs } from '../config/index.ts';
import { poolAdminView } from '../pool/index.ts';
import { createNamespacedStore } from '../ratelimit/index.ts';
import type { Tracing } from '../telemetry/index.ts';
import { createAdminListener, elsewhere, listenBeside, type Routes, sendRoute } from './admin.ts';
import { createGraphGateway, type Gateway, type GraphGateway } from './create-gateway.ts';
import { createListener } from './listener.ts';
import { createGatewayMetrics } from './metrics.ts';
import { ADMIN_FORBIDDEN, adminAllowed, live, readinessRoute } from './routes.ts';
import { createRateLimitStore } from './stores.ts';
import { type Logger, type ReadinessReport, silentLogger } from './types.ts';

export interface GraphsGatewayOptions {
  /** The whole configuration; its `graphs` says what is served where (config/graphs.ts). */
  config: GatewayConfig;
  logger?: Logger;
  /** Re-reads the configuration on each supergraph poll; each graph takes its own part of it. */
  reloadConfig?: () => GatewayConfig;
  tracing?: Tracing;
}

/** GET /health/ready of a gateway serving several graphs: ready when every graph is. */
export interface GraphsReadinessReport {
  ready: boolean;
  /** `not ready` when one graph is; `degraded` when one is degraded; else `ready`. */
  state: ReadinessReport['state'];
  /** Each graph's own report, by graph name, with its path. */
  graphs: Record<string, ReadinessReport & { path: string }>;
  /** Replicas that did not answer the last probe, as `graph subgraph url`. */
  down: string[];
}

export interface GraphsGateway {
  /** Starts the one listener; resolves to the first graph's URL (`urls` has them all). */
  listen(port?: number, host?: string): Promise<string>;
  /** The admin listener's origin once listening (/metrics and /admin/* over every graph). */
  readonly adminUrl: string | undefined;
  /** Every graph's GraphQL URL, in config order, once listening. */
  readonly urls: readonly string[];
  /** Each graph, by path. */
  readonly graphs: ReadonlyMap<string, Gateway>;
  readiness(): Promise<GraphsReadinessReport>;
  /** Serves one HTTP request: the shared routes, else the graph its path names, else 404. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Hands an `upgrade` to the graph of its path; other paths get 404. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Refuses new work, drains the listener once every graph closed its subscriptions, then closes all. */
  close(graceMs?: number): Promise<void>;
}

interface Served {
  name: string;
  path: string;
  /** Where its IDE assets are served: `${path}/ide/`. */
  ide: string;
  gateway: GraphGateway;
}

/** Every line a graph logs says which graph. */
function withGraph(logger: Logger, graph: string): Logger {
  return {
    info: (message, fields) => logger.info(message, { graph, ...fields }),
    warn: (message, fields) => logger.warn(message, { graph, ...fields }),
    error: (message, fields) => logger.error(message, { graph, ...fields }),
  };
}

const pathOf = (req: IncomingMessage) => (req.url ?? '/').split('?')[0] ?? '/';

/**
 * Several supergraphs on several paths of one process (`graphs`): a gateway per graph, each with its own
 * supergraph and reload, planner and plan cache, pools, auth, cost and limits; their budgets in one
 * rate-limit store under a namespace per graph; one listener, and /health/*, /metrics and /admin/* over
 * all of them. A request's path picks its graph, and nothing it does reaches another.
 */
export async function createGraphsGateway(options: GraphsGatewayOptions): Promise<GraphsGateway> {
  const { config } = options;
  const logger = options.logger ?? silentLogger;
  // The one listener of every graph (HTTPS with server.tls), made first so a bad certificate file stops
  // start-up before any graph connects. Its handlers are bound below; nothing calls them before listen().
  const listener = createListener(
    config.server,
    {
      onRequest: (req, res) => void handle(req, res),
      onUpgrade: (req, socket, head) => handleUpgrade(req, socket, head),
    },
    { logger },
  );
  // Store settings are top-level only (the schema refuses them in a graph): one store, one connection.
  const store = createRateLimitStore(config, logger);
  // One process, one capacity: every graph's requests take slots of the same admission limit.
  const admission = createAdmission(config.server);
  admission.guard(listener.server);
  const built = await Promise.allSettled(
    graphConfigs(config).map(async ({ name, path, config: graphConfig }) => {
      const reloadConfig =
        options.reloadConfig &&
        (() => {
          const again = graphConfigs(options.reloadConfig!()).find((g) => g.name === name);
          if (!again) throw new Error(`graph ${name} is gone from the configuration; restart to remove it`);
          return again.config;
        });
      const gateway = await createGraphGateway({
        config: graphConfig,
        logger: withGraph(logger, name),
        reloadConfig,
        graph: { name, path },
        rateLimitStore: createNamespacedStore(store, `graph:${name}:`),
        admission,
      });
      return { name, path, ide: `${path.replace(/\/$/, '')}/ide/`, gateway } satisfies Served;
    }),
  );
  const served = built.flatMap((b) => (b.status === 'fulfilled' ? [b.value] : []));
  const failed = built.find((b) => b.status === 'rejected');
  if (failed) {
    await Promise.allSettled(served.map((s) => s.gateway.close(0)));
    await store.close();
    admission.stop();
    throw failed.reason;
  }
  const byPath = new Map(served.map((s) => [s.path, s]));
  const graphOf = (path: string) => byPath.get(path) ?? served.find((s) => path.startsWith(s.ide));

  // The process-wide series (nodejs_*, span export) once, beside every graph's series labelled by graph.
  const processMetrics = createGatewayMetrics({
    pools: () => [],
    spans: options.tracing && (() => options.tracing!.stats()),
    admission: admission.snapshot,
  });
  const scrape = async () => {
    const all = await Promise.all(
      [processMetrics, ...served.map((s) => s.gateway.metrics)].map((m) => m.registry.getMetricsAsJSON()),
    );
    return AggregatorRegistry.aggregate(all).metrics();
  };

  const readiness = async (): Promise<GraphsReadinessReport> => {
    const reports = await Promise.all(served.map((s) => s.gateway.readiness()));
    const ready = reports.every((r) => r.ready);
    const state = !ready ? 'not ready' : reports.some((r) => r.state === 'degraded') ? 'degraded' : 'ready';
    const graphs: GraphsReadinessReport['graphs'] = {};
    served.forEach((s, i) => {
      graphs[s.name] = { path: s.path, ...reports[i]! };
    });
    const down = served.flatMap((s, i) => reports[i]!.down.map((d) => `${s.name} ${d}`));
    return { ready, state, graphs, down };
  };

  const adminRoutes: Routes = {
    '/health/live': live,
    '/health/ready': () => readinessRoute(readiness(), true),
    '/metrics': async () => ({ status: 200, body: await scrape(), contentType: processMetrics.contentType }),
    '/admin/pool': async (req) => {
      if (!adminAllowed(req, config.server.adminToken)) return ADMIN_FORBIDDEN;
      return {
        status: 200,
        body: { graphs: Object.fromEntries(served.map((s) => [s.name, poolAdminView(s.gateway.pools)])) },
      };
    },
  };
  const routes: Routes = {
    ...elsewhere(adminRoutes),
    '/health/live': live,
    '/health/ready': () => readinessRoute(readiness(), false),
  };
  const admin = createAdminListener(adminRoutes, { logger });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = pathOf(req);
    const route = routes[path];
    if (route) {
      try {
        return await sendRoute(req, res, route);
      } catch {
        if (!res.headersSent) return sendJson(res, 500, { error: 'unexpected error' });
        return void res.destroy();
      }
    }
    const graph = graphOf(path);
    if (graph) return graph.gateway.handle(req, res);
    sendJson(res, 404, {
      error: `no route ${path}; GraphQL is served at ${served.map((s) => s.path).join(', ')}`,
    });
  };

  const handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const graph = byPath.get(pathOf(req));
    if (graph) return graph.gateway.handleUpgrade(req, socket, head);
    socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
  };

  let urls: string[] = [];
  return {
    graphs: new Map(served.map((s) => [s.path, s.gateway as Gateway])),
    get urls() {
      return urls;
    },
    readiness,
    handle,
    handleUpgrade,
    get adminUrl() {
      return admin.url;
    },
    async listen(port = config.server.port, host = config.server.host) {
      const origin = await listener.listen(port, host);
      await listenBeside(admin, config.server, port, () => listener.close(0));
      urls = served.map((s) => `${origin}${s.path}`);
      return urls[0]!;
    },
    async close(graceMs = config.server.shutdownGraceMs) {
      admission.close();
      // The listener is drained once, when every graph has closed its subscriptions (their open streams
      // would hold the drain for its whole grace period); a graph whose shutdown fails before that point
      // must not keep the others waiting.
      let waiting = served.length;
      let release!: () => void;
      const everyGraph = new Promise<void>((r) => {
        release = r;
      });
      const arrive = () => {
        if (--waiting === 0) release();
      };
      if (waiting === 0) release();
      let drained: Promise<void> | undefined;
      const drainOnce = async () => {
        arrive();
        await everyGraph;
        drained ??= listener.close(graceMs);
        await drained;
      };
      await Promise.allSettled(
        served.map(async (s) => {
          let arrived = false;
          try {
            await s.gateway.shutdown(async () => {
              arrived = true;
              await drainOnce();
            });
          } finally {
            if (!arrived) arrive();
          }
        }),
      );
      await store.close();
      admission.stop();
      await admin.close();
    },
  };
}
