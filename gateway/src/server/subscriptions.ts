import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ApolloServer } from '@apollo/server';
import type { Authentication, RequestSigner } from '../auth/index.ts';
import type { ClientAddressOf } from '../client-address/index.ts';
import type { GatewayConfig } from '../config/index.ts';
import { guardUpgrade } from '../cors/index.ts';
import type { CostModel } from '../cost/index.ts';
import type { UpstreamSubscribe } from '../executor/index.ts';
import type { HeaderRulesApplier } from '../headers/index.ts';
import type { FormatOptions } from '../incremental/index.ts';
import type { ReplicaPool } from '../pool/index.ts';
import type { RateLimitStore } from '../ratelimit/index.ts';
import {
  createEventCharge,
  createSubscriptionStarter,
  type SubscriptionStarterStats,
} from '../subscriptions/index.ts';
import {
  createMultipartTransport,
  createSseTransport,
  createWebSocketTransport,
  type HttpSubscriptionTransport,
  type TransportStats,
} from '../transports/index.ts';
import { createUpstreamHub, type UpstreamHub, type UpstreamHubStats } from '../upstream/index.ts';
import type { GatewayContext, Logger } from './types.ts';

/** The upstream half, built before the pipeline: the executor opens subscriptions' upstreams through it. */
export interface Upstreams {
  readonly hub: UpstreamHub;
  readonly subscribe: UpstreamSubscribe;
}

/** The gateway's own subscriptions to subgraph replicas, shared where the subgraph does not depend on the caller. */
export function createUpstreams(
  config: GatewayConfig,
  pools: ReadonlyMap<string, ReplicaPool>,
  decorate: RequestSigner | undefined,
  logger: Logger,
  headerRules?: HeaderRulesApplier,
): Upstreams {
  const { upstream, maxBufferedEvents } = config.subscriptions;
  const hub = createUpstreamHub({
    pools,
    sign:
      decorate &&
      ((headers, body, principal, signed) => decorate(headers, body, principal && { principal }, signed)),
    resubscribeWithinMs: upstream.resubscribeWithinMs,
    keepAliveMs: upstream.keepAliveMs,
    connectTimeoutMs: upstream.connectTimeoutMs,
    log: (message, fields) => logger.warn(message, fields),
  });
  const perCaller = new Set(upstream.perCaller);
  return {
    hub,
    subscribe: (subgraph, request, context) =>
      hub.subscribe(subgraph, request, {
        principal: perCaller.has(subgraph) ? (context as GatewayContext).principal : undefined,
        // the rules' headers for this caller: an upstream is shared only by callers they agree for
        headers: headerRules?.(subgraph, context as GatewayContext),
        maxBufferedEvents,
      }),
  };
}

export interface SubscriptionServingDeps {
  config: GatewayConfig;
  apollo: ApolloServer<GatewayContext>;
  authentication: Pick<Authentication, 'authenticate'>;
  upstreams: Upstreams;
  format: FormatOptions;
  costModel: () => CostModel;
  store: RateLimitStore;
  rewriteRequest?: (request: { search: string; body: unknown }) => { search: string; body: unknown };
  overloaded?: () => boolean;
  log: (message: string, fields: Record<string, unknown>) => void;
  /** The GraphQL path WebSocket upgrades are taken on. @default '/graphql' */
  path?: string;
  /** The caller's address (`server.trustedProxies`). @default the socket's peer */
  clientAddress?: ClientAddressOf;
}

export interface SubscriptionStats {
  transports: readonly TransportStats[];
  starter: SubscriptionStarterStats;
  upstream: UpstreamHubStats;
}

export interface SubscriptionServing {
  /** SSE and multipart subscriptions, for the HTTP handler. */
  readonly http: { sse: HttpSubscriptionTransport; multipart: HttpSubscriptionTransport };
  /** The HTTP server's `upgrade` event: graphql-transport-ws on /graphql. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  stats(): SubscriptionStats;
  /** Refuses new subscriptions, closes client connections ("going away"), then the upstreams. */
  close(): Promise<void>;
}

/** Subscriptions end to end: the three client transports over one starter, over the upstream hub. */
export function createSubscriptionServing(deps: SubscriptionServingDeps): SubscriptionServing {
  const { config } = deps;
  const s = config.subscriptions;
  const rateLimited = config.ratelimit.enabled;
  const starter = createSubscriptionStarter<GatewayContext>({
    server: deps.apollo,
    authenticate: (headers, clientAddress) => deps.authentication.authenticate(headers, clientAddress),
    format: deps.format,
    maxPerPrincipal: s.maxPerPrincipal,
    maxPerConnection: s.maxPerConnection,
    reauthenticateMs: s.reauthenticateMs,
    baggageAllowKeys: config.telemetry.baggage.allowKeys,
    rewriteRequest: deps.rewriteRequest,
    charge: rateLimited
      ? (context, document, request) =>
          createEventCharge(
            {
              model: deps.costModel,
              cost: config.cost,
              ratelimit: config.ratelimit,
              store: deps.store,
              mode: config.cost.mode === 'measure' ? 'measure' : 'enforce',
              log: deps.log,
            },
            context,
            document,
            request,
          )
      : undefined,
  });
  const common = {
    start: starter.start,
    maxBufferedBytes: s.maxBufferedBytes,
    clientAddress: deps.clientAddress,
  };
  const ws = createWebSocketTransport({
    ...common,
    connectionInitWaitTimeoutMs: s.connectionInitTimeoutMs,
    keepAliveMs: s.keepAliveMs,
    maxConnections: s.maxConnections,
    // a backstop counting every operation on the socket; the starter refuses subscriptions past
    // maxPerConnection first, with SUBSCRIPTION_LIMIT
    maxSubscriptionsPerConnection: s.maxPerConnection + 1,
    maxPayloadBytes: config.server.maxBodyBytes,
    overloaded: deps.overloaded,
    path: deps.path,
  });
  const sse = createSseTransport({ ...common, heartbeatMs: s.heartbeatMs });
  const multipart = createMultipartTransport({ ...common, heartbeatMs: s.heartbeatMs });
  return {
    http: { sse, multipart },
    // WebSocket has no CORS: an upgrade from another origin needs that origin in server.cors.origins.
    handleUpgrade: guardUpgrade(config.server.cors, (req, socket, head) =>
      ws.handleUpgrade(req, socket, head),
    ),
    stats: () => ({
      transports: [ws.stats(), sse.stats(), multipart.stats()],
      starter: starter.stats(),
      upstream: deps.upstreams.hub.stats(),
    }),
    async close() {
      // the transports first: their clients get "going away" (and reconnect elsewhere), not a completion
      await Promise.all([ws.close(), sse.close(), multipart.close()]);
      starter.close();
      await deps.upstreams.hub.close();
    },
  };
}
