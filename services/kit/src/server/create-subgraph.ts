import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ApolloServer,
  type ApolloServerPlugin,
  type BaseContext,
  HeaderMap,
  type HTTPGraphQLResponse,
} from '@apollo/server';
import {
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { SpanStatusCode } from '@opentelemetry/api';
import type { GraphQLSchema } from 'graphql';
import { type Cache, createCache } from '../cache/index.ts';
import type { Db } from '../db/index.ts';
import { HttpError, sendJson } from '../http/index.ts';
import {
  type BatchEvent,
  createLoaders,
  type LoaderDefinitions,
  type LoaderOptions,
  loaderStats,
} from '../loaders/index.ts';
import { createPubSub, type PubSub } from '../pubsub/index.ts';
import {
  assertSigningSecret,
  SignatureError,
  type VerifiedRequest,
  verifyRequestSignature,
} from '../signing/index.ts';
import { activeContext, createSubgraphLogger, inChildSpan, recordingSpanIn } from '../telemetry/index.ts';
import { createHttpDrain, type HttpDrain } from './drain.ts';
import { readJsonBody, sendGraphQLError } from './http.ts';
import { subgraphMetrics } from './metrics.ts';
import type { ServiceDefinition, SubgraphContext } from './service-definition.ts';
import { SubscriptionServer } from './websocket.ts';

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

export interface SubgraphOptions<L extends LoaderDefinitions> {
  /** The service's database handle; the subgraph uses it but does not close it. */
  db: Db;
  /** Loader definitions; every request gets a fresh set built from them. */
  loaders?: L;
  /**
   * The shared cache cached loaders read through; the caller closes it. `false` turns sharing off
   * (loaders still batch within a request).
   * @default a new in-process cache for this subgraph, cold at start
   */
  cache?: Cache | false;
  /**
   * Called after every loader batch (size, cache hits, statements, duration).
   * @default a no-op
   */
  onBatch?: (event: BatchEvent) => void;
  /**
   * Serve only requests the gateway signed with this secret (`TOLLGATE_SIGNING_SECRET`): unsigned ones
   * get 401, forged or stale ones 403, and the signed principal becomes `context.principal`.
   * @default undefined (signatures off: every request is served, with no principal; logged once)
   */
  signing?: SubgraphSigningOptions;
  /**
   * The pub/sub behind `Subscription` fields and their publishers (`context.pubsub`); the caller closes
   * it. Give every replica of a service one on the same backend (`createPubSub`), or a publish on one
   * replica never reaches subscribers on another.
   * @default a new in-process pub/sub (this replica only), closed by close()
   */
  pubsub?: PubSub;
}

export interface SubgraphSigningOptions {
  /** The secret shared with the gateway, at least 32 characters. */
  secret: string;
  /**
   * How far a request's signed timestamp may lie from this replica's clock; bounds replays.
   * @default 30000
   */
  maxSkewMs?: number;
}

export interface ListenOptions {
  /** @default 0 (any free port) */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
}

export interface Subgraph {
  readonly name: string;
  /** GraphQL requests this replica has served (also reported by `GET /health`). */
  readonly requests: number;
  /** Whether this subgraph serves only requests the gateway signed. */
  readonly verifiesSignatures: boolean;
  /** Subscriptions running over this replica's WebSockets (`ws://HOST:PORT/graphql`). */
  readonly subscriptions: number;
  /**
   * Starts serving; resolves to `http://HOST:PORT/graphql`. The same path takes WebSocket upgrades
   * (`graphql-transport-ws`), signed like a POST with an empty body when signatures are on.
   */
  listen(opts?: ListenOptions): Promise<string>;
  /**
   * Closes every WebSocket with 1001 (going away) and refuses new ones, stops accepting HTTP, lets
   * in-flight requests finish, then closes keep-alive sockets.
   */
  close(): Promise<void>;
}

const BODY_LIMIT = 1024 * 1024;
const HEALTH_TIMEOUT_MS = 1000;
// Longer than the 60 s idle timeout of common load balancers and of the gateway's pool, so the
// client side always closes an idle connection first and never writes into a closing socket.
const KEEP_ALIVE_TIMEOUT_MS = 65_000;
// How long close() lets requests in flight run before it cuts them.
const STOP_GRACE_MS = 10_000;
// What the gateway's replica pool probes with (as Apollo's health check does). It reads no data and
// carries no principal, so it is answered unsigned, with a constant, like GET /health.
const PROBE_QUERY = '{ __typename }';
let warnedUnsigned = false;

// JSON lines on stderr with the trace id (Apollo's default logger writes to stdout, which belongs to the
// ready line).
const log = createSubgraphLogger();
const logger = {
  debug: () => {},
  info: () => {},
  warn: (message: unknown) => log.warn(String(message)),
  error: (message: unknown) => log.error(String(message)),
};

/** Names the execution span after the operation (`query ProductReviews`) and marks it failed on errors. */
function tracingPlugin<T extends BaseContext>(): ApolloServerPlugin<T> {
  return {
    async requestDidStart() {
      const span = recordingSpanIn(activeContext());
      if (!span) return {};
      return {
        async didResolveOperation(rc) {
          const type = rc.operation?.operation ?? 'query';
          span.updateName(rc.operationName ? `${type} ${rc.operationName}` : type);
          span.setAttribute('graphql.operation.type', type);
          if (rc.operationName) span.setAttribute('graphql.operation.name', rc.operationName);
        },
        async didEncounterErrors(rc) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: rc.errors[0]?.message ?? 'error' });
        },
      };
    },
  };
}

/**
 * A Federation 2 subgraph on a plain `node:http` server. It does not listen until `listen()`, so
 * tests and the launcher decide ports and lifetimes.
 */
export function createSubgraph<L extends LoaderDefinitions>(
  definition: ServiceDefinition<L>,
  opts: SubgraphOptions<L>,
): Subgraph {
  return new HttpSubgraph(definition, opts);
}

class HttpSubgraph<L extends LoaderDefinitions> implements Subgraph {
  readonly name: string;
  #db: Db;
  #loaders: L;
  #loaderOptions: LoaderOptions;
  #signing: Required<SubgraphSigningOptions> | undefined;
  #http: Server;
  #drain: HttpDrain;
  #apollo: ApolloServer<SubgraphContext<L>>;
  #schema: GraphQLSchema;
  #ws: SubscriptionServer<SubgraphContext<L>, VerifiedRequest | undefined>;
  #pubsub: PubSub;
  #ownsPubSub: boolean;
  #requests = 0;
  #state: 'new' | 'listening' | 'closed' = 'new';
  #closed: Promise<void> | undefined;

  constructor(definition: ServiceDefinition<L>, opts: SubgraphOptions<L>) {
    this.name = definition.name;
    this.#db = opts.db;
    this.#loaders = opts.loaders ?? ({} as L);
    if (opts.signing !== undefined) {
      const { secret, maxSkewMs = 30_000 } = opts.signing;
      // Checked here so a bad secret stops the replica at startup, not at its first request.
      assertSigningSecret(secret, 'signing.secret');
      if (!Number.isFinite(maxSkewMs) || maxSkewMs < 0)
        throw new TypeError('signing.maxSkewMs: expected a non-negative number');
      this.#signing = { secret, maxSkewMs };
    }
    this.#loaderOptions = {
      service: definition.name,
      cache: opts.cache === false ? undefined : (opts.cache ?? createCache()),
      onBatch: opts.onBatch,
    };
    // Built once here only so that bad definitions (two loaders caching as one type) fail at startup.
    createLoaders(this.#loaders, this.#db, this.#loaderOptions);
    this.#http = createServer({ keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS }, (req, res) => {
      this.#route(req, res).catch((err: unknown) => fail(res, err));
    });
    // Node requires headersTimeout > keepAliveTimeout or it drops slow-but-valid requests.
    this.#http.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1000;
    this.#drain = createHttpDrain(this.#http);
    this.#ownsPubSub = opts.pubsub === undefined;
    this.#pubsub = opts.pubsub ?? createPubSub();
    this.#schema = buildSubgraphSchema([
      // Our resolver map is stricter than @apollo/subgraph's; the shapes are the same.
      { typeDefs: definition.typeDefs, resolvers: definition.resolvers as never },
    ]);
    this.#ws = new SubscriptionServer<SubgraphContext<L>, VerifiedRequest | undefined>({
      schema: this.#schema,
      authenticate: (req) =>
        // The gateway signs an upgrade as a request with an empty body ('').
        this.#signing ? verifyRequestSignature(req.headers, Buffer.alloc(0), this.#signing) : undefined,
      context: (verified) => this.#context(verified),
    });
    this.#http.on('upgrade', (req, socket, head) => this.#ws.handleUpgrade(req, socket, head));
    this.#apollo = new ApolloServer<SubgraphContext<L>>({
      schema: this.#schema,
      // Everything NODE_ENV would otherwise decide is pinned, so dev and production behave alike.
      introspection: true,
      includeStacktraceInErrorResponses: false,
      stopOnTerminationSignals: false,
      logger,
      plugins: [
        // Nothing phones home: no usage or schema reporting, no CDN-hosted landing page.
        ApolloServerPluginLandingPageDisabled(),
        ApolloServerPluginUsageReportingDisabled(),
        ApolloServerPluginSchemaReportingDisabled(),
        tracingPlugin(),
      ],
    });
  }

  get requests(): number {
    return this.#requests;
  }

  get verifiesSignatures(): boolean {
    return this.#signing !== undefined;
  }

  get subscriptions(): number {
    return this.#ws.subscriptions;
  }

  async listen({ port = 0, host = '127.0.0.1' }: ListenOptions = {}): Promise<string> {
    if (this.#state !== 'new') throw new Error(`subgraph ${this.name} is already ${this.#state}`);
    this.#state = 'listening';
    try {
      await this.#apollo.start();
      await new Promise<void>((resolve, reject) => {
        this.#http.once('error', reject);
        this.#http.listen(port, host, () => {
          this.#http.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      // Stops what apollo.start() started; the HTTP server never got to listen.
      await this.#apollo.stop().catch(() => {});
      this.#state = 'closed';
      throw err;
    }
    if (!this.#signing && !warnedUnsigned) {
      warnedUnsigned = true;
      // stderr: stdout carries the ready line. Once per process, so test runs stay readable.
      console.error(
        `${this.name}: request signatures are off (no TOLLGATE_SIGNING_SECRET): anyone who can reach this port is served, without a principal`,
      );
    }
    const address = this.#http.address() as AddressInfo;
    return `http://${urlHost(address.address)}:${address.port}/graphql`;
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      const started = this.#state === 'listening';
      this.#state = 'closed';
      // WebSockets first: 1001 tells the gateway to resubscribe elsewhere (at most 1 s). Only then the HTTP
      // server (refuse new connections, finish in flight, cut no request: drain.ts), which would cut an
      // upgraded socket (it carries no request) before its close frame; then Apollo itself stops.
      await this.#ws.close();
      if (started) {
        await this.#drain.close({ graceMs: STOP_GRACE_MS });
        await this.#apollo.stop();
      }
      if (this.#ownsPubSub) await this.#pubsub.close();
    })();
    return this.#closed;
  }

  async #route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/graphql') return this.#graphql(req, res, url.search);
    if (url.pathname === '/health') {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        return sendGraphQLError(res, 405, 'METHOD_NOT_ALLOWED', 'Use GET /health');
      }
      return this.#health(res);
    }
    if (url.pathname === '/metrics') {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        return sendGraphQLError(res, 405, 'METHOD_NOT_ALLOWED', 'Use GET /metrics');
      }
      const metrics = subgraphMetrics(this.name, {
        requests: () => this.requests,
        subscriptions: () => this.subscriptions,
        loaders: loaderStats,
      });
      const text = await metrics.scrape();
      res.writeHead(200, { 'content-type': metrics.contentType, 'content-length': Buffer.byteLength(text) });
      res.end(req.method === 'HEAD' ? undefined : text);
      return;
    }
    sendGraphQLError(res, 404, 'NOT_FOUND', `No route for ${url.pathname}`);
  }

  async #graphql(req: IncomingMessage, res: ServerResponse, search: string): Promise<void> {
    let raw: Buffer;
    let body: unknown;
    try {
      ({ raw, body } = await readJsonBody(req, BODY_LIMIT));
    } catch (err) {
      if (err instanceof HttpError) return sendGraphQLError(res, err.status, err.code, err.message);
      throw err;
    }
    let verified: VerifiedRequest | undefined;
    if (this.#signing) {
      try {
        verified = verifyRequestSignature(req.headers, raw, this.#signing);
      } catch (err) {
        if (!(err instanceof SignatureError)) throw err;
        if (err.code === 'SIGNATURE_MISSING' && isProbe(req, body)) {
          this.#requests++;
          return sendJson(res, 200, { data: { __typename: 'Query' } });
        }
        // `reason` tells an operator which end is misconfigured when a gateway passes this on.
        const code = err.status === 401 ? 'UNAUTHENTICATED' : 'FORBIDDEN';
        return sendJson(res, err.status, {
          errors: [{ message: err.message, extensions: { code, reason: err.code } }],
        });
      }
      // The signature covers the body only: a GET's query string would ride on it unchecked.
      if (req.method !== 'POST') {
        res.setHeader('allow', 'POST');
        return sendGraphQLError(res, 405, 'METHOD_NOT_ALLOWED', 'Signed requests must be POST');
      }
    }
    this.#requests++;
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    // The execution span: parent of every loader batch (and so of every SQL statement) of the request;
    // the operation's name and type are set by the tracing plugin once Apollo has resolved it.
    const response = await inChildSpan(activeContext(), 'subgraph.execute', (span) => {
      span?.setAttribute('tollgate.subgraph.name', this.name);
      return this.#apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: req.method?.toUpperCase() ?? 'GET', headers, search, body },
        context: async () => this.#context(verified),
      });
    });
    await writeResponse(res, response);
  }

  /** The context of one operation, over HTTP or on a WebSocket. */
  #context(verified: VerifiedRequest | undefined): SubgraphContext<L> {
    const principal = verified?.principal ?? undefined;
    return {
      db: this.#db,
      loaders: createLoaders(this.#loaders, this.#db, this.#loaderOptions),
      pubsub: this.#pubsub,
      // Only ever from a verified signature: no header a caller can set names a user.
      principal,
      userId: principal?.kind === 'user' ? principal.id : undefined,
      gatewayHeaders: verified?.headers ?? NO_HEADERS,
    };
  }

  async #health(res: ServerResponse): Promise<void> {
    const body = { status: 'ok', service: this.name, requests: this.#requests };
    const headers = { 'cache-control': 'no-store' };
    try {
      await withTimeout(this.#db.query('SELECT 1'), HEALTH_TIMEOUT_MS);
      sendJson(res, 200, body, headers);
    } catch (err) {
      sendJson(res, 503, { ...body, status: 'unavailable', error: (err as Error).message }, headers);
    }
  }
}

async function writeResponse(res: ServerResponse, response: HTTPGraphQLResponse): Promise<void> {
  for (const [key, value] of response.headers) res.setHeader(key, value);
  res.statusCode = response.status ?? 200;
  if (response.body.kind === 'complete') {
    res.end(response.body.string);
    return;
  }
  // Incremental delivery (@defer) streams multipart chunks as Apollo produces them.
  for await (const chunk of response.body.asyncIterator) res.write(chunk);
  res.end();
}

function fail(res: ServerResponse, err: unknown): void {
  log.error('request failed', { error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendGraphQLError(res, 500, 'INTERNAL_SERVER_ERROR', 'Unexpected error.');
}

function isProbe(req: IncomingMessage, body: unknown): boolean {
  if (req.method !== 'POST' || typeof body !== 'object' || body === null) return false;
  const { query, ...rest } = body as Record<string, unknown>;
  return query === PROBE_QUERY && Object.values(rest).every((v) => v === undefined || v === null);
}

function urlHost(address: string): string {
  // A wildcard bind is reachable on loopback; that is the URL local callers can use.
  if (address === '0.0.0.0' || address === '::') return '127.0.0.1';
  return address.includes(':') ? `[${address}]` : address;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
