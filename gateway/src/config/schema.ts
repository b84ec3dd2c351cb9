import { LOG_FORMATS, LOG_LEVELS } from '@tollgate/kit/log';
import { PROPAGATORS, PROTOCOLS, SAMPLERS } from '@tollgate/kit/tracing';
import { z } from 'zod';
import { networkProblem } from '../client-address/index.ts';
// The pool's defaults, written once in the pool. Imported from options.ts, not the folder's index.ts:
// the index pulls in telemetry/, whose tracing.ts imports this folder's config type (an import cycle).
import { POOL_DEFAULTS } from '../pool/index.ts';
import { corsSchema, RoutingRuleSchema, ServerTlsSchema, SubgraphSchema } from './edge-schema.ts';
import { checkGraphs, type ResolvedGraph, resolveGraphs } from './graphs.ts';
import { headersSchema } from './headers.ts';
import { admissionSchema, attemptTimeoutSchema, circuitBreakerSchema, hedgingSchema } from './pool-schema.ts';
import { bool, list, url } from './primitives.ts';

// `graphs[]` (config/graphs.ts, docs/graphs.md): a graph's sections are kept raw here and validated whole,
// merged over the top level, by the check at the bottom; defaults must not fill them in, or a graph would
// override top-level keys it never named.
const graphSection = (section: string, note = '') =>
  z
    .record(z.unknown())
    .optional()
    .describe(
      `This graph's \`${section}\`: the same keys, deep-merged over the top-level \`${section}\` (maps merge by key, lists replace, null removes an inherited key).${note}`,
    );

const GraphSchema = z
  .object({
    path: z
      .string()
      .regex(/^\/([A-Za-z0-9._~-]+\/)*[A-Za-z0-9._~-]*$/, 'expected a path such as /partner/graphql')
      .describe(
        'URL path this graph is served on (POST/GET, the IDE, WebSocket/SSE/multipart subscriptions), e.g. /partner/graphql; unique, and not /health/*, /metrics or /admin/*.',
      ),
    name: z
      .string()
      .regex(/^[a-z][a-z0-9_-]*$/i, 'expected a name of letters, digits, - and _')
      .optional()
      .describe(
        "The graph's name: the `graph` label of its metrics and the namespace of its rate-limit budgets. Default: the path without slashes (/partner/graphql → partner-graphql).",
      ),
    supergraph: z
      .record(z.unknown())
      .optional()
      .describe(
        "This graph's `supergraph` (same keys). With `subgraphs`, the graph's source of truth: a graph that sets either takes neither from the top level.",
      ),
    subgraphs: z
      .array(z.unknown())
      .optional()
      .describe("This graph's `subgraphs` (same entries); see graphs[].supergraph."),
    pool: graphSection('pool'),
    auth: graphSection('auth'),
    cost: graphSection('cost'),
    ratelimit: graphSection(
      'ratelimit',
      ' Its budgets are its own (keys namespaced by graph name); the store settings (failureMode, redisTimeoutMs, fallbackShare, keyPrefix) stay top-level, as every graph shares the one store.',
    ),
    limits: graphSection('limits'),
    persistedQueries: graphSection('persistedQueries'),
    subscriptions: graphSection('subscriptions'),
  })
  .strict();

export const GatewayConfigObject = z
  .object({
    server: z
      .object({
        host: z.string().default('0.0.0.0').describe('Address the gateway listens on.'),
        port: z.coerce
          .number()
          .int()
          .min(0)
          .max(65535)
          .default(4000)
          .describe('Port the gateway listens on (0 = any free port).'),
        adminPort: z.coerce
          .number()
          .int()
          .min(0)
          .max(65535)
          .optional()
          .describe(
            'Port of the admin listener: GET /metrics, /admin/*, and /health/ready with the detailed report (plain HTTP, never on the public port). Default: 9090, or 0 (any free port) when server.port is 0.',
          ),
        adminHost: z
          .string()
          .default('127.0.0.1')
          .describe(
            'Address the admin listener binds: loopback by default; 0.0.0.0 in a container, so Prometheus can scrape it (docs/reliability.md#the-admin-listener).',
          ),
        maxBodyBytes: z.coerce
          .number()
          .int()
          .positive()
          .default(1_000_000)
          .describe('Largest request body accepted, in bytes; larger bodies get 413 BAD_REQUEST.'),
        ide: bool.default(true).describe('Serve GraphiQL (from local files) to browsers that GET /graphql.'),
        headersTimeoutMs: z.coerce
          .number()
          .int()
          .min(0)
          .default(10_000)
          .describe(
            'Longest a client may take to send the request line and headers (ms); a slower one gets 408 and its connection closed. 0 turns it off. At most requestTimeoutMs.',
          ),
        requestTimeoutMs: z.coerce
          .number()
          .int()
          .min(0)
          .default(30_000)
          .describe(
            'Longest a client may take to send a whole request, headers and body (ms); a body that trickles gets 408 and its connection closed. The response (a stream, a subscription) is not bounded by it. 0 turns it off.',
          ),
        keepAliveTimeoutMs: z.coerce
          .number()
          .int()
          .min(0)
          .default(65_000)
          .describe(
            'How long an idle keep-alive connection stays open (ms). Longer than the idle timeout of the load balancer in front (60 s on AWS ALB), so the balancer, not the gateway, closes it and no request races the close.',
          ),
        maxHeaderBytes: z.coerce
          .number()
          .int()
          .min(1_024)
          .max(1_048_576)
          .default(16_384)
          .describe(
            'Largest request line plus headers accepted, in bytes; larger gets 431 and the connection closed.',
          ),
        shutdownGraceMs: z.coerce
          .number()
          .int()
          .min(0)
          .default(10_000)
          .describe('On SIGTERM, how long in-flight requests may take before the process exits.'),
        workers: z.coerce
          .number()
          .int()
          .min(0)
          .max(256)
          .default(1)
          .describe(
            'Gateway processes sharing the port (node:cluster): 1 runs in this process, 0 one per CPU core. Each worker has its own in-process rate-limit store and caches; set `redis.url` so budgets are shared.',
          ),
        maxConcurrentRequests: z.coerce
          .number()
          .int()
          .positive()
          .default(1_000)
          .describe(
            'Hard maximum of GraphQL requests served at once: the adaptive limit (server.admission) never goes above it; with server.admission.enabled false it is the fixed limit.',
          ),
        maxEventLoopLagMs: z.coerce
          .number()
          .int()
          .min(0)
          .default(0)
          .describe(
            'Shed GraphQL requests with 503 while the event loop lags more than this (p99 over the last second), e.g. 500; 0, the default until it is tuned on real traffic, turns it off.',
          ),
        admission: admissionSchema
          .default({})
          .describe(
            'Adaptive admission (docs/reliability.md#overload): a concurrency limit that follows latency (Gradient2), and a short queue; excess requests get 503 OVERLOADED with Retry-After.',
          ),
        maxConnections: z.coerce
          .number()
          .int()
          .min(0)
          .default(4_096)
          .describe(
            'Client connections served at once; a request on a connection beyond it is answered 503 OVERLOADED with `Connection: close` at once. 0 turns the cap off.',
          ),
        maxConnectionsHard: z.coerce
          .number()
          .int()
          .positive()
          .optional()
          .describe(
            'Connections accepted at all: beyond it a new connection is closed on accept, unanswered. Default: twice server.maxConnections.',
          ),
        adminToken: z
          .string()
          .min(16)
          .optional()
          .describe(
            'Bearer token for the admin routes (/admin/*). Without it they answer only to loopback clients.',
          ),
        trustedProxies: list
          .default([])
          .superRefine((entries, ctx) => {
            for (const [i, entry] of entries.entries()) {
              const problem = networkProblem(entry);
              if (problem) ctx.addIssue({ code: 'custom', path: [i], message: problem });
            }
          })
          .describe(
            'Proxies (load balancers, ingress) whose word about the client is taken: CIDRs (`10.0.0.0/8`, `2001:db8::/32`), addresses, or `loopback`, `linklocal`, `uniquelocal`. The client address (anonymous budgets, access log, `client.address` of spans) is read from `server.clientAddressHeader` right to left, skipping these; the first other address is the client. Empty: the socket peer is the client and the header is ignored. See docs/reliability.md.',
          ),
        clientAddressHeader: z
          .enum(['x-forwarded-for', 'forwarded'])
          .default('x-forwarded-for')
          .describe(
            'The header the trusted proxies write the client address in: `x-forwarded-for`, or `forwarded` (RFC 7239 `for=`). Only that one is read: a client could forge the other.',
          ),
        introspection: bool
          .optional()
          .describe(
            'Answer introspection (__schema, __type) and put "Did you mean …" field suggestions in validation errors. Default: on when `development` is on (NODE_ENV=development), off otherwise.',
          ),
        readiness: z
          .enum(['gateway', 'all-subgraphs'])
          .default('gateway')
          .describe(
            'What GET /health/ready needs for 200: `gateway`, a loaded supergraph and no shutdown under way (a subgraph with no replica up is reported, and its fields answer SUBGRAPH_UNAVAILABLE, but it does not take every gateway out of its load balancer); `all-subgraphs`, also a replica up for every subgraph.',
          ),
        batching: bool
          .default(false)
          .describe(
            'Accept a JSON array of operations in one POST (HTTP batching), at most limits.maxBatchSize; off, an array body gets 400 BAD_REQUEST.',
          ),
        cors: corsSchema
          .default({})
          .describe('Cross-origin access from browser pages (CORS, the Fetch standard); off by default.'),
        tls: ServerTlsSchema.optional().describe(
          'Serve HTTPS (HTTP/1.1) on server.port instead of plain HTTP. A changed certFile/keyFile/caFile is picked up within a second, for new connections, without a restart (docs/tls.md).',
        ),
      })
      .strict()
      .default({})
      .describe('The HTTP endpoint.'),
    supergraph: z
      .object({
        file: z
          .string()
          .optional()
          .describe(
            'A composed supergraph SDL file (as Apollo Router --supergraph). Without it (and without supergraph.url) the gateway composes `subgraphs` at start.',
          ),
        watch: bool
          .default(true)
          .describe(
            'Re-read the source of truth (the supergraph file or URL, or the config and subgraph SDLs) and swap in a changed supergraph without a restart.',
          ),
        url: url
          .optional()
          .describe(
            'Fetch the composed supergraph SDL from this URL (a CDN, a schema registry, `tollgate compose` output behind any HTTP server) instead of a file. Polled with If-None-Match/If-Modified-Since when watch is on; a failed fetch, a non-2xx answer or an invalid supergraph keeps the last good one (shown on /health/ready). At start-up the gateway retries with backoff until a first good supergraph arrives.',
          ),
        headers: z.record(z.string()).default({}).describe(
          // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal ${VAR}, expanded by load.ts
          'Headers sent with each fetch of supergraph.url, e.g. `authorization: "Bearer ${SUPERGRAPH_TOKEN}"` (values may use ${VAR}).',
        ),
        timeoutMs: z.coerce
          .number()
          .int()
          .positive()
          .default(10_000)
          .describe('Timeout of one fetch of supergraph.url, headers and body (ms).'),
        pollIntervalMs: z.coerce
          .number()
          .int()
          .min(100)
          .optional()
          .describe(
            'How often the source of truth is re-read when watch is on (ms). Default: 10000 for supergraph.url (as Apollo Uplink; each poll is a conditional GET), 2000 for a file or composed subgraphs.',
          ),
        planner: z
          .enum(['hive', 'apollo'])
          .default('hive')
          .describe(
            "Who plans operations: `hive` (the Hive Router's planner, a native addon; when it cannot load on the platform, `apollo` with one log line) or `apollo` (@apollo/query-planner). Tollgate's executor runs either's plans.",
          ),
      })
      .strict()
      .default({})
      .describe('Where the supergraph comes from.'),
    subgraphs: z
      .array(SubgraphSchema)
      .default([])
      .describe(
        'Subgraphs and their replicas. With a supergraph file, entries here override the routing URL of the subgraph of the same name.',
      ),
    pool: z
      .object({
        timeoutMs: z.coerce
          .number()
          .int()
          .positive()
          .default(POOL_DEFAULTS.timeoutMs)
          .describe(
            'Deadline of one subgraph fetch, retries included (ms); what is left of it is sent to the subgraph in x-tollgate-deadline-ms.',
          ),
        perTryTimeoutMs: z.coerce
          .number()
          .int()
          .min(0)
          .default(POOL_DEFAULTS.perTryTimeoutMs)
          .describe(
            'Deadline of one attempt (ms); 0 = the whole remaining fetch time, so a timed-out query is not retried.',
          ),
        connectionsPerReplica: z.coerce
          .number()
          .int()
          .positive()
          .default(POOL_DEFAULTS.connectionsPerReplica)
          .describe('Keep-alive connections kept per replica.'),
        keepAliveTimeoutMs: z.coerce
          .number()
          .int()
          .positive()
          .default(POOL_DEFAULTS.keepAliveTimeoutMs)
          .describe('How long an idle keep-alive connection to a replica is kept.'),
        strategy: z
          .enum(['p2c_ewma', 'least_outstanding', 'round_robin'])
          .default(POOL_DEFAULTS.strategy)
          .describe(
            'How a replica is picked: p2c_ewma (power of two choices on peak-EWMA latency × outstanding, as Finagle/Linkerd), least_outstanding (as AWS ALB), round_robin. All honour weights and slow start.',
          ),
        weights: z
          .record(z.coerce.number().positive())
          .default({})
          .describe(
            'Weight per replica URL, or per dns:// entry for every address it resolves to (default 1 each).',
          ),
        ewmaDecayMs: z.coerce
          .number()
          .int()
          .positive()
          .default(POOL_DEFAULTS.ewmaDecayMs)
          .describe('Decay time of the peak-EWMA latency estimate (ms).'),
        slowStartWindowMs: z.coerce
          .number()
          .int()
          .min(0)
          .default(POOL_DEFAULTS.slowStartWindowMs)
          .describe(
            'A replica that joins or recovers ramps up its weight over this time (ms); 0 turns slow start off.',
          ),
        slowStartAggression: z.coerce
          .number()
          .positive()
          .default(POOL_DEFAULTS.slowStartAggression)
          .describe('Slow-start curve: weight × (elapsed/window)^(1/aggression); 1 is linear.'),
        slowStartMinWeightPercent: z.coerce
          .number()
          .min(0)
          .max(100)
          .default(POOL_DEFAULTS.slowStartMinWeightPercent)
          .describe('Slow-start weight floor, in percent of the full weight.'),
        panicThresholdPercent: z.coerce
          .number()
          .min(0)
          .max(100)
          .default(POOL_DEFAULTS.panicThresholdPercent)
          .describe(
            'Below this share of available replicas, traffic goes to all of them, ignoring health; 0 never.',
          ),
        maxConcurrentPerReplica: z.coerce
          .number()
          .int()
          .positive()
          .default(POOL_DEFAULTS.maxConcurrentPerReplica)
          .describe(
            'Requests in flight per replica; a full replica is skipped, and a pool of full replicas fails fast.',
          ),
        deadlineHeader: z
          .string()
          .default(POOL_DEFAULTS.deadlineHeader)
          .describe('Header telling the subgraph its remaining time budget in ms; empty sends none.'),
        healthCheck: z
          .object({
            intervalMs: z.coerce
              .number()
              .int()
              .min(0)
              .default(POOL_DEFAULTS.healthCheck.intervalMs)
              .describe('Time between active checks of each replica (ms); 0 turns them off.'),
            timeoutMs: z.coerce
              .number()
              .int()
              .positive()
              .default(POOL_DEFAULTS.healthCheck.timeoutMs)
              .describe('Timeout of one active check (ms).'),
            healthyThreshold: z.coerce
              .number()
              .int()
              .positive()
              .default(POOL_DEFAULTS.healthCheck.healthyThreshold)
              .describe('Consecutive passing checks that bring an unhealthy replica back.'),
            unhealthyThreshold: z.coerce
              .number()
              .int()
              .positive()
              .default(POOL_DEFAULTS.healthCheck.unhealthyThreshold)
              .describe('Consecutive failing checks that take a replica out (a 503 takes it out at once).'),
            path: z
              .string()
              .optional()
              .describe(
                'GET this path on each replica, expecting 200. Without it the check POSTs `{ __typename }` to the replica URL (works on any GraphQL server).',
              ),
          })
          .strict()
          .default({})
          .describe('Active health checks of every replica. The first check decides at once.'),
        outlier: z
          .object({
            consecutiveFailures: z.coerce
              .number()
              .int()
              .min(0)
              .default(POOL_DEFAULTS.outlier.consecutiveFailures)
              .describe(
                'Consecutive failures (5xx, timeouts, resets, refused connections) that eject a replica; 0 turns ejection off.',
              ),
            baseEjectionMs: z.coerce
              .number()
              .int()
              .positive()
              .default(POOL_DEFAULTS.outlier.baseEjectionMs)
              .describe('An ejection lasts this × the times the replica was ejected (ms).'),
            maxEjectionMs: z.coerce
              .number()
              .int()
              .positive()
              .default(POOL_DEFAULTS.outlier.maxEjectionMs)
              .describe('Cap on one ejection (ms).'),
            maxEjectionPercent: z.coerce
              .number()
              .min(0)
              .max(100)
              .default(POOL_DEFAULTS.outlier.maxEjectionPercent)
              .describe('At most this share of the replicas is ejected at once (always at least one).'),
            unejectOnActiveCheck: bool
              .default(POOL_DEFAULTS.outlier.unejectOnActiveCheck)
              .describe('A passing active check ends an ejection early.'),
          })
          .strict()
          .default({})
          .describe('Passive outlier detection on live traffic.'),
        retry: z
          .object({
            maxAttempts: z.coerce
              .number()
              .int()
              .min(1)
              .max(10)
              .default(POOL_DEFAULTS.retry.maxAttempts)
              .describe('Attempts per subgraph fetch, the first included; each goes to a different replica.'),
            backoffBaseMs: z.coerce
              .number()
              .int()
              .min(0)
              .default(POOL_DEFAULTS.retry.backoffBaseMs)
              .describe('Full-jitter backoff: retry n waits random [0, (2^n-1) × base) ms.'),
            backoffMaxMs: z.coerce
              .number()
              .int()
              .min(0)
              .default(POOL_DEFAULTS.retry.backoffMaxMs)
              .describe('Cap on one backoff wait (ms).'),
            budgetPercent: z.coerce
              .number()
              .min(0)
              .max(100)
              .default(POOL_DEFAULTS.retry.budgetPercent)
              .describe('Retries in flight may be at most this percent of the fetches in flight...'),
            minRetryConcurrency: z.coerce
              .number()
              .int()
              .min(0)
              .default(POOL_DEFAULTS.retry.minRetryConcurrency)
              .describe('...but this many retries in flight are always allowed.'),
            onStatus: z
              .array(z.coerce.number().int().min(400).max(599))
              .default([...POOL_DEFAULTS.retry.onStatus])
              .describe(
                'Answer statuses a query is retried on. Mutations are only ever moved after a refused connection.',
              ),
          })
          .strict()
          .default({})
          .describe('Retries of idempotent fetches (queries) on resets, timeouts and these statuses.'),
        attemptTimeout: attemptTimeoutSchema(true)
          .default({})
          .describe(
            "Adaptive per-attempt timeout of queries: the subgraph's recent p99 × factor, within [minMs, maxMs], so a hung or slow replica is left for another one (pool.perTryTimeoutMs, when set, still caps every attempt). Not applied to the last attempt a query may make, nor without another replica to try or room in the retry budget.",
          ),
        hedging: hedgingSchema(true)
          .default({})
          .describe(
            "Hedged attempts of queries (Envoy's hedge policy, 'The Tail at Scale'), within a budget; a replica that loses a race counts as failed for outlier detection.",
          ),
        circuitBreaker: circuitBreakerSchema
          .default({})
          .describe(
            "Per-subgraph circuit breaker: while most of a subgraph's recent fetches fail (timeouts, refused or broken connections, 5xx), its fetches fail at once with SUBGRAPH_UNAVAILABLE instead of each waiting out the timeout; after openMs, halfOpenRequests trial fetches decide whether traffic resumes.",
          ),
        discovery: z
          .object({
            refreshMs: z.coerce
              .number()
              .int()
              .positive()
              .default(POOL_DEFAULTS.discovery.refreshMs)
              .describe('How often dns://name:port/path replica entries are resolved again (ms).'),
          })
          .strict()
          .default({})
          .describe(
            'DNS discovery: a replica entry dns://name:port/path stands for every address the name resolves to.',
          ),
        overrides: z
          .record(
            z
              .object({
                timeoutMs: z.coerce
                  .number()
                  .int()
                  .positive()
                  .optional()
                  .describe('Fetch deadline for this subgraph (ms).'),
                perTryTimeoutMs: z.coerce
                  .number()
                  .int()
                  .min(0)
                  .optional()
                  .describe('Attempt deadline for this subgraph (ms).'),
                strategy: z
                  .enum(['p2c_ewma', 'least_outstanding', 'round_robin'])
                  .optional()
                  .describe('Strategy for this subgraph.'),
                maxConcurrentPerReplica: z.coerce
                  .number()
                  .int()
                  .positive()
                  .optional()
                  .describe('Concurrency limit per replica of this subgraph.'),
                circuitBreaker: circuitBreakerSchema
                  .optional()
                  .describe('Circuit breaker of this subgraph (replaces pool.circuitBreaker for it).'),
                attemptTimeout: attemptTimeoutSchema(false)
                  .optional()
                  .describe(
                    'Adaptive attempt timeout of this subgraph, key by key over pool.attemptTimeout.',
                  ),
                hedging: hedgingSchema(false)
                  .optional()
                  .describe('Hedging of this subgraph, key by key over pool.hedging.'),
              })
              .strict(),
          )
          .default({})
          .describe('Per-subgraph settings by subgraph name, e.g. `reviews: { timeoutMs: 500 }`.'),
      })
      .strict()
      .default({})
      .describe('Subgraph traffic: the replica pool.'),
    routing: z
      .object({
        rules: z
          .array(RoutingRuleSchema)
          .default([])
          .superRefine((rules, ctx) => {
            const seen = new Set<string>();
            rules.forEach((r, i) => {
              const name = r.name ?? `rules[${i}]`;
              if (seen.has(name))
                ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate rule name ${name}` });
              seen.add(name);
            });
          })
          .describe(
            'Evaluated per request, in order. For each subgraph the first matching rule with a `select` for it picks its replica subset; every matching rule turns on its `activate` labels. Conditions given together must all hold. Fetches no rule selects go to the default set: the replicas no selector of a rule for that subgraph matches (all of them when every replica matches one). See docs/routing.md.',
          ),
        fallback: z
          .enum(['default', 'fail'])
          .default('default')
          .describe(
            'When a selected subset has no available replica: `default` sends the fetch to the default set, `fail` answers SUBGRAPH_UNAVAILABLE.',
          ),
      })
      .strict()
      .default({})
      .describe(
        'Routing rules: replica subsets by header, claim or weight, and progressive-override labels.',
      ),
    health: z
      .object({
        probeTimeoutMs: z.coerce
          .number()
          .int()
          .positive()
          .default(1_000)
          .describe(
            'Timeout of the probe of every replica made before the gateway starts serving (later checks: pool.healthCheck).',
          ),
      })
      .strict()
      .default({})
      .describe('Start-up probing of replicas.'),
    limits: z
      .object({
        maxDepth: z.coerce
          .number()
          .int()
          .positive()
          .default(15)
          .describe('Deepest field nesting of an operation (fragments followed).'),
        maxAliases: z.coerce.number().int().min(0).default(30).describe('Aliased fields in one document.'),
        maxDirectives: z.coerce
          .number()
          .int()
          .min(0)
          .default(50)
          .describe('Directives used in one document.'),
        maxRootFields: z.coerce
          .number()
          .int()
          .positive()
          .default(20)
          .describe('Fields at the root of one operation.'),
        maxTokens: z.coerce
          .number()
          .int()
          .positive()
          .default(5_000)
          .describe('GraphQL tokens in one document; the parser stops at this count.'),
        maxBatchSize: z.coerce
          .number()
          .int()
          .positive()
          .default(10)
          .describe('Operations in one batched request, when server.batching is on.'),
      })
      .strict()
      .default({})
      .describe(
        'Structural limits, checked before planning; an operation over one gets 400 BAD_REQUEST naming the limit.',
      ),
    auth: z
      .object({
        anonymous: z
          .object({
            enabled: bool
              .default(true)
              .describe('Serve requests that carry no credentials, as the anonymous principal.'),
            plan: z.string().default('anonymous').describe('Rate-limit plan of anonymous callers.'),
          })
          .strict()
          .default({})
          .describe('Callers without credentials. Turn off in production to require a token or an API key.'),
        jwt: z
          .object({
            jwksUrl: url
              .optional()
              .describe(
                'JWKS endpoint of the identity provider (cached; refetched on an unknown kid at most once per cooldown).',
              ),
            jwksFile: z.string().optional().describe('A local JWKS file, instead of jwksUrl.'),
            hs256Secret: z
              .string()
              .min(32)
              .optional()
              .describe('Shared secret for HS256 tokens; HS256 is refused without it.'),
            issuer: z.string().describe('Required `iss`.'),
            audience: z
              .union([z.string(), z.array(z.string()).min(1)])
              .describe('Required `aud` (one of these).'),
            algorithms: z
              .array(z.enum(['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'EdDSA']))
              .min(1)
              .default(['RS256', 'ES256', 'EdDSA'])
              .describe('Algorithms accepted (always passed to jose).'),
            clockToleranceSec: z.coerce
              .number()
              .int()
              .min(0)
              .default(30)
              .describe('Leeway on exp/nbf, in seconds.'),
            typ: z.string().optional().describe('Required JWT `typ` header, e.g. at+jwt.'),
            scopeClaim: z
              .string()
              .default('scope')
              .describe('Claim holding the scopes (space-separated or array).'),
            planClaim: z.string().default('plan').describe('Claim naming the rate-limit plan.'),
            defaultPlan: z.string().default('free').describe('Plan of a token without the plan claim.'),
          })
          .strict()
          .refine((j) => Boolean(j.jwksUrl || j.jwksFile || j.hs256Secret), {
            message: 'give jwksUrl, jwksFile or hs256Secret',
          })
          .optional()
          .describe(
            'Bearer JWTs (Authorization header or cookie). Without this section bearer tokens are refused.',
          ),
        cookieName: z.string().optional().describe('Cookie carrying the JWT for browser clients.'),
        failureThrottle: z
          .object({
            capacity: z.coerce
              .number()
              .int()
              .min(0)
              .default(20)
              .describe(
                'Failed authentications one client address may have in a burst; 0 turns the throttle off.',
              ),
            refillPerSecond: z.coerce
              .number()
              .positive()
              .default(1)
              .describe('Failed authentications given back to an address per second.'),
            maxAddresses: z.coerce
              .number()
              .int()
              .positive()
              .default(10_000)
              .describe('Client addresses remembered at most (the least recently failing forgotten first).'),
          })
          .strict()
          .default({})
          .describe(
            'Credential stuffing: bad JWTs and unknown API keys take a token from their client address (server.trustedProxies); an address out of tokens gets 429 RATE_LIMITED with Retry-After before its credential is looked at. Successful authentications take nothing. Per gateway process. See docs/auth.md.',
          ),
        failureLog: z
          .object({
            linesPerWindow: z.coerce
              .number()
              .int()
              .min(0)
              .default(10)
              .describe('Warning lines about refused credentials written per window.'),
            windowMs: z.coerce
              .number()
              .int()
              .positive()
              .default(60_000)
              .describe('The window (ms); its other refusals are summed up in one line when it closes.'),
          })
          .strict()
          .default({})
          .describe(
            'Sampling of the `authentication refused` warning lines, so a flood of bad credentials cannot flood the log (/metrics counts every one).',
          ),
        apiKeys: z
          .object({
            file: z
              .string()
              .optional()
              .describe('File of API key records (hashes only), as written by `npm run apikey:new`.'),
            redis: bool
              .default(false)
              .describe('Keep API key records in Redis (REDIS_URL) instead of the file.'),
          })
          .strict()
          .optional()
          .describe('API keys in the x-api-key header. Without this section API keys are refused.'),
        signing: z
          .object({
            secret: z
              .string()
              .min(32, 'expected at least 32 characters')
              .optional()
              .describe(
                'Secret shared with the subgraphs (TOLLGATE_SIGNING_SECRET): each subgraph fetch carries the principal in headers signed with HMAC-SHA256 over a timestamp, the principal, the body hash and the headers the `headers` rules add. Without it fetches are unsigned and subgraphs that check signatures refuse them.',
              ),
          })
          .strict()
          .default({})
          .describe('Gateway → subgraph trust.'),
      })
      .strict()
      .default({})
      .describe('Who is calling: JWT, API key or anonymous.'),
    headers: headersSchema,
    cost: z
      .object({
        mode: z
          .enum(['enforce', 'measure', 'off'])
          .default('enforce')
          .describe(
            'enforce rejects over-limit queries; measure only reports the cost (for rolling out limits); off neither computes nor reports it (rate limits, when on, still charge the estimate).',
          ),
        maxCost: z.coerce
          .number()
          .positive()
          .default(1000)
          .describe('Largest estimated cost one operation may have.'),
        defaultListSize: z.coerce
          .number()
          .int()
          .min(0)
          .default(10)
          .describe(
            'Assumed size of a list field without @listSize, in a supergraph that applies @cost or @listSize somewhere.',
          ),
        directiveFreeListSize: z.coerce
          .number()
          .int()
          .min(0)
          .default(1)
          .describe(
            'Assumed size of every list field when the supergraph applies no @cost and no @listSize at all: 1 prices the operation by its shape (one point per object selected), so ordinary queries of an unannotated supergraph are neither refused by maxCost nor by a budget; set it to defaultListSize to price such a supergraph like an annotated one.',
          ),
      })
      .strict()
      .default({})
      .describe('Query cost from @cost/@listSize in the supergraph.'),
    ratelimit: z
      .object({
        enabled: bool.default(true).describe("Charge each operation's cost to its caller's budget."),
        plans: z
          .record(
            z
              .object({
                capacity: z.coerce
                  .number()
                  .positive()
                  .describe('Budget size in cost points (the largest burst).'),
                restoreRate: z.coerce.number().positive().describe('Points restored per second.'),
              })
              .strict(),
          )
          .default({
            anonymous: { capacity: 1000, restoreRate: 50 },
            free: { capacity: 1000, restoreRate: 50 },
            standard: { capacity: 5000, restoreRate: 250 },
            enterprise: { capacity: 20000, restoreRate: 1000 },
          })
          .describe('Budgets by plan name; a principal names its plan.'),
        defaultPlan: z
          .string()
          .default('free')
          .describe('Plan used when a principal names a plan not listed here.'),
        failureMode: z
          .enum(['open', 'closed'])
          .default('open')
          .describe('When Redis fails: open answers from a local per-instance budget, closed answers 503.'),
        redisTimeoutMs: z.coerce
          .number()
          .int()
          .positive()
          .default(50)
          .describe('Timeout of one Redis limiter call.'),
        fallbackShare: z.coerce
          .number()
          .gt(0)
          .max(1)
          .default(1)
          .describe('Share of each budget the local fallback allows per instance while Redis is down.'),
        keyPrefix: z.string().default('tollgate:rl:').describe('Prefix of the budget keys in Redis.'),
      })
      .strict()
      .default({})
      .describe(
        'Rate limiting by cost budget per client (Redis when REDIS_URL is set, in-process otherwise).',
      ),
    subscriptions: z
      .object({
        enabled: bool
          .default(true)
          .describe(
            "Serve subscriptions on /graphql over WebSocket (graphql-transport-ws), SSE (graphql-sse) and multipart HTTP (Apollo's subscriptionSpec 1.0).",
          ),
        maxConnections: z.coerce
          .number()
          .int()
          .positive()
          .default(20_000)
          .describe(
            'WebSocket connections open at once; an upgrade beyond it is refused with 503 and Retry-After.',
          ),
        maxPerConnection: z.coerce
          .number()
          .int()
          .positive()
          .default(100)
          .describe(
            'Subscriptions open at once on one connection (a WebSocket; an SSE or multipart request holds one); more are refused with SUBSCRIPTION_LIMIT.',
          ),
        maxPerPrincipal: z.coerce
          .number()
          .int()
          .positive()
          .default(100)
          .describe(
            'Subscriptions open at once for one caller (a user, an API key, an anonymous client address) on this gateway process; more are refused with SUBSCRIPTION_LIMIT.',
          ),
        maxBufferedEvents: z.coerce
          .number()
          .int()
          .positive()
          .default(100)
          .describe(
            'Events waiting for one subscriber; a subscriber that falls further behind is ended with SLOW_CONSUMER.',
          ),
        maxBufferedBytes: z.coerce
          .number()
          .int()
          .positive()
          .default(1_048_576)
          .describe(
            'Bytes written to one client connection and not yet taken by it; past this the connection is closed as a slow consumer.',
          ),
        keepAliveMs: z.coerce
          .number()
          .int()
          .positive()
          .default(12_000)
          .describe(
            'WebSocket ping interval; a client that has not answered the previous ping is disconnected.',
          ),
        connectionInitTimeoutMs: z.coerce
          .number()
          .int()
          .positive()
          .default(3_000)
          .describe(
            'How long a WebSocket client has to send connection_init (graphql-transport-ws closes with 4408 after it).',
          ),
        heartbeatMs: z.coerce
          .number()
          .int()
          .positive()
          .default(5_000)
          .describe(
            'Heartbeat interval of SSE (a comment line) and multipart subscriptions (an empty {} part).',
          ),
        reauthenticateMs: z.coerce
          .number()
          .int()
          .nonnegative()
          .default(60_000)
          .describe(
            "How often an open subscription's credentials are checked again (a revoked API key ends it); 0 never. A JWT's exp ends it at that time whatever this is.",
          ),
        upstream: z
          .object({
            keepAliveMs: z.coerce
              .number()
              .int()
              .positive()
              .default(5_000)
              .describe(
                'Ping interval on each upstream WebSocket; a replica that misses a pong is treated as gone and the subscription moves to another.',
              ),
            resubscribeWithinMs: z.coerce
              .number()
              .int()
              .positive()
              .default(2_000)
              .describe(
                'How long the gateway keeps trying other replicas after the one serving an upstream subscription is lost; after it the subscribers get SUBGRAPH_UNAVAILABLE.',
              ),
            connectTimeoutMs: z.coerce
              .number()
              .int()
              .positive()
              .default(2_000)
              .describe('Timeout of one upstream WebSocket connect and subscribe.'),
            perCaller: z
              .array(z.string().min(1))
              .default([])
              .describe(
                "Subgraphs whose subscription fields depend on the caller: their upstream subscriptions are signed with the caller's principal and never shared. The others are signed with no principal and shared by every identical subscription (deduplication).",
              ),
          })
          .strict()
          .default({})
          .describe(
            "The gateway's own subscriptions to subgraph replicas (WebSocket, graphql-transport-ws).",
          ),
      })
      .strict()
      .default({})
      .describe(
        'GraphQL subscriptions: client transports, limits, and the upstream subscriptions to subgraph replicas.',
      ),
    persistedQueries: z
      .object({
        apq: bool
          .default(true)
          .describe(
            'Automatic persisted queries (Apollo APQ: extensions.persistedQuery.sha256Hash): a client may send a hash instead of the query text once the gateway has seen it. Kept in Redis when redis.url is set, in process otherwise.',
          ),
        ttlSeconds: z.coerce
          .number()
          .int()
          .positive()
          .default(86_400)
          .describe('How long an automatic persisted query is kept after it was registered (s).'),
        maxMemoryBytes: z.coerce
          .number()
          .int()
          .positive()
          .default(32 * 1024 * 1024)
          .describe(
            'Size bound of the in-process store of persisted query texts (least recently used go first).',
          ),
        redisTimeoutMs: z.coerce
          .number()
          .int()
          .positive()
          .default(50)
          .describe(
            'Timeout of one Redis lookup; after it (or with Redis down) the in-process store answers, and a miss asks the client for the full query.',
          ),
        keyPrefix: z
          .string()
          .default('tollgate:pq:')
          .describe('Prefix of the persisted query keys in Redis.'),
        trustedDocuments: z
          .object({
            manifest: z
              .string()
              .describe(
                'Persisted query manifest file: Apollo\'s format ({"format":"apollo-persisted-query-manifest","version":1,"operations":[{"id","body","name","type"}]}) or a JSON object of id → document.',
              ),
            mode: z
              .enum(['enforce', 'audit'])
              .default('enforce')
              .describe(
                'enforce refuses any operation not in the manifest (PERSISTED_QUERY_NOT_IN_LIST, 400); audit runs it and logs it (for rolling the list out).',
              ),
            watch: bool
              .default(true)
              .describe(
                'Re-read the manifest when the file changes and serve the new list without a restart; a manifest that cannot be used is refused and the previous list keeps serving.',
              ),
            pollIntervalMs: z.coerce
              .number()
              .int()
              .min(100)
              .default(2_000)
              .describe('How often the manifest file is checked for changes when watch is on.'),
          })
          .strict()
          .optional()
          .describe(
            'Trusted documents: only operations registered in a manifest run. Clients send the id as extensions.persistedQuery.sha256Hash or documentId, or the exact text of a listed operation.',
          ),
      })
      .strict()
      .default({})
      .describe('Persisted queries: automatic (APQ) and trusted documents.'),
    redis: z
      .object({
        url: z.string().optional().describe('Redis URL (REDIS_URL). Without it, in-process stores are used.'),
      })
      .strict()
      .default({})
      .describe('Shared state.'),
    telemetry: z
      .object({
        enabled: bool
          .default(true)
          .describe(
            'Record traces and export them over OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT (default http://localhost:4318); OTEL_SDK_DISABLED=true turns it off.',
          ),
        serviceName: z
          .string()
          .min(1)
          .default('tollgate-gateway')
          .describe("service.name of the gateway's spans (OTEL_SERVICE_NAME)."),
        sampler: z
          .enum(SAMPLERS)
          .default('parentbased_always_on')
          .describe(
            "Which requests are traced (OTEL_TRACES_SAMPLER): parentbased_* follow the caller's traceparent when there is one.",
          ),
        samplerRatio: z.coerce
          .number()
          .min(0)
          .max(1)
          .default(1)
          .describe(
            'Share of traces sampled by the traceidratio samplers (OTEL_TRACES_SAMPLER_ARG), e.g. 0.1.',
          ),
        maxQueueSize: z.coerce
          .number()
          .int()
          .positive()
          .default(2048)
          .describe(
            'Spans waiting for export at most (OTEL_BSP_MAX_QUEUE_SIZE); beyond it spans are dropped and counted, never waited on.',
          ),
        scheduleDelayMs: z.coerce
          .number()
          .int()
          .min(0)
          .default(5000)
          .describe('How long spans wait to be exported as one batch (OTEL_BSP_SCHEDULE_DELAY).'),
        protocol: z
          .enum(PROTOCOLS)
          .default('http/protobuf')
          .describe(
            'OTLP encoding of the exported spans (OTEL_EXPORTER_OTLP_TRACES_PROTOCOL or OTEL_EXPORTER_OTLP_PROTOCOL); the exporter reads the endpoint, headers, timeout and compression from OTEL_EXPORTER_OTLP_* itself.',
          ),
        propagators: z
          .array(z.enum(PROPAGATORS))
          .min(1)
          .default(['tracecontext', 'baggage'])
          .describe(
            'Trace context formats read from callers and sent to subgraphs (OTEL_PROPAGATORS, comma-separated); `none` sends and reads none.',
          ),
        debugHeader: z
          .string()
          .default('tollgate-debug')
          .describe(
            'A request with this header set to `trace` is traced whatever the sampler says and gets its trace id in `extensions.traceId`; empty turns it off.',
          ),
        accessLog: bool.default(true).describe('Log one JSON line per GraphQL request on stdout.'),
        baggage: z
          .object({
            allowKeys: list
              .default([])
              .describe(
                "Keys of the client's W3C `baggage` header passed on to subgraphs (exact, case-sensitive), e.g. [tenant]; every other entry is dropped. Empty (the default): no client baggage reaches a subgraph.",
              ),
          })
          .strict()
          .default({})
          .describe(
            "The client's `baggage` (with the `baggage` propagator): dropped before subgraphs unless its keys are allowed, so a client cannot pass `role=admin` off as the gateway's word. See docs/telemetry.md.",
          ),
      })
      .strict()
      .default({})
      .describe('Traces (OpenTelemetry), metrics and logs.'),
    log: z
      .object({
        level: z
          .enum(LOG_LEVELS)
          .default('info')
          .describe('Least severe log level written; `silent` writes none (GATEWAY_LOG_LEVEL).'),
        format: z
          .enum(LOG_FORMATS)
          .default('auto')
          .describe(
            '`json`: one JSON object per line (for log collectors); `pretty`: human-readable lines (pino-pretty); `auto`: pretty when stdout is a terminal or NODE_ENV=development, JSON otherwise (GATEWAY_LOG_FORMAT).',
          ),
      })
      .strict()
      .default({})
      .describe(
        "The gateway's own logs: info on stdout, warnings and errors on stderr, each line with the trace and span ids of its request.",
      ),
    graphs: z
      .array(GraphSchema)
      .min(1)
      .optional()
      .describe(
        'Several supergraphs on several paths of one gateway (docs/graphs.md), each with its own supergraph, plans, pools, auth, cost, budgets and limits. Absent: one graph on /graphql, from the top-level sections.',
      ),
    development: bool
      .default(false)
      .describe('Show stack traces and internal error messages (NODE_ENV=development).'),
  })
  .strict();

/**
 * Top-level sections, for the environment variables: GATEWAY_<SECTION>_<KEY>, where `_` inside a name
 * starts a camelCase word (GATEWAY_POOL_TIMEOUT_MS → pool.timeoutMs) and `__` goes one level down
 * (GATEWAY_POOL_CIRCUIT_BREAKER__MIN_REQUESTS → pool.circuitBreaker.minRequests).
 */
export const CONFIG_SECTIONS = Object.keys(GatewayConfigObject.shape);

/** The checks across keys, of the top level and of each graph's merged configuration alike. */
function checkAcross(c: z.infer<typeof GatewayConfigObject>, ctx: z.RefinementCtx): void {
  if (c.supergraph.url && c.supergraph.file) {
    ctx.addIssue({
      code: 'custom',
      path: ['supergraph', 'url'],
      message: 'give supergraph.url or supergraph.file, not both',
    });
  }
  const { headersTimeoutMs, requestTimeoutMs } = c.server;
  // node refuses a headers timeout longer than the whole request's (http.createServer throws)
  if (headersTimeoutMs > 0 && requestTimeoutMs > 0 && headersTimeoutMs > requestTimeoutMs) {
    ctx.addIssue({
      code: 'custom',
      path: ['server', 'headersTimeoutMs'],
      message: `${headersTimeoutMs} is longer than server.requestTimeoutMs (${requestTimeoutMs}), which bounds the headers too`,
    });
  }
  if (!c.ratelimit.plans[c.ratelimit.defaultPlan]) {
    ctx.addIssue({
      code: 'custom',
      path: ['ratelimit', 'defaultPlan'],
      message: `no plan named ${c.ratelimit.defaultPlan} in ratelimit.plans`,
    });
  }
}

const graphSchema = GatewayConfigObject.superRefine(checkAcross);

export const GatewayConfigSchema = GatewayConfigObject.superRefine((c, ctx) => {
  checkAcross(c, ctx);
  checkGraphs(c, ctx, (tree) => graphSchema.safeParse(tree));
});

/** Each graph's name, path and whole configuration; one graph on /graphql when `graphs` is absent. */
export function graphConfigs(config: GatewayConfig): ResolvedGraph<GatewayConfig>[] {
  return resolveGraphs(config, (tree) => graphSchema.safeParse(tree));
}

export type GatewayConfig = z.infer<typeof GatewayConfigSchema>;
export type GatewayConfigInput = z.input<typeof GatewayConfigSchema>;
export type SubgraphConfig = z.infer<typeof SubgraphSchema>;
