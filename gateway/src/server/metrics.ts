import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { AdmissionSnapshot } from '../admission/index.ts';
import type { AuthenticationStats } from '../auth/index.ts';
import type { PoolSnapshot, ReplicaStats } from '../pool/index.ts';
import type { RateLimitOutcome } from '../ratelimit/index.ts';
import type { SpanExportStats } from '../telemetry/index.ts';
import { admissionMetrics } from './admission-metrics.ts';
import type { SubscriptionStats } from './subscriptions.ts';

/** What the metrics read at scrape time: each concern's own typed snapshot. */
export interface GatewayMetricsSources {
  /** One snapshot per subgraph pool (`ReplicaPool.snapshot()`); `name` is the subgraph. */
  pools(): Iterable<PoolSnapshot>;
  /** The tracer's export counters; undefined while tracing is not started. */
  spans?: (() => SpanExportStats) | undefined;
  /** Refused credentials and throttled addresses (auth/plugin.ts). */
  auth?: (() => AuthenticationStats) | undefined;
  /** Subscriptions' counters (transports, starter, upstream hub); undefined when they are off. */
  subscriptions?: (() => SubscriptionStats | undefined) | undefined;
  /**
   * The graph these metrics are of, when the gateway serves several (graphs-gateway.ts): every series
   * gets a `graph` label, and the process-wide ones (nodejs_*, process_*) are left to the caller.
   */
  graph?: string | undefined;
  /** Admission's refusals, limit and connections; undefined where another registry shows them. */
  admission?: (() => AdmissionSnapshot) | undefined;
}

export interface GatewayMetrics {
  readonly registry: Registry;
  /** Apollo Server plugin counting requests, latency, costs and document cache hits. */
  readonly plugin: ApolloServerPlugin<BaseContext>;
  /** Counts a supergraph reload attempt. */
  reload(ok: boolean): void;
  /** Counts a rate-limit decision (the rate-limit plugin's `onDecision`). */
  rateLimitDecision(outcome: RateLimitOutcome): void;
  /** Prometheus text exposition of everything. */
  scrape(): Promise<string>;
  readonly contentType: string;
}

// Operation names come from clients: cap how many distinct ones become label values, so a client
// sending random names cannot grow the registry without bound.
const MAX_OPERATIONS = 200;

const COST_BUCKETS = [0, 1, 5, 10, 50, 100, 500, 1_000, 5_000, 10_000, 100_000, 1_000_000];

/** The gateway's Prometheus metrics (GET /metrics), on a registry of its own. */
export function createGatewayMetrics(sources: GatewayMetricsSources): GatewayMetrics {
  const registry = new Registry();
  if (sources.graph === undefined)
    collectDefaultMetrics({ register: registry }); // includes nodejs_eventloop_lag_seconds
  else registry.setDefaultLabels({ graph: sources.graph });
  const requests = new Counter({
    name: 'gateway_requests_total',
    help: 'GraphQL requests by operation name and HTTP status.',
    labelNames: ['operation', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'gateway_request_duration_seconds',
    help: 'Time from request start to response, by operation name.',
    labelNames: ['operation'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const estimated = new Histogram({
    name: 'gateway_cost_estimated',
    help: 'Estimated cost of admitted operations.',
    buckets: COST_BUCKETS,
    registers: [registry],
  });
  const actual = new Histogram({
    name: 'gateway_cost_actual',
    help: 'Actual cost of executed operations.',
    buckets: COST_BUCKETS,
    registers: [registry],
  });
  const decisions = new Counter({
    name: 'gateway_ratelimit_decisions_total',
    help: 'Rate-limit decisions: admitted, limited (429), unavailable (503, limiter down with failureMode closed) or over_budget (cost.mode measure: charged, not refused).',
    labelNames: ['decision'],
    registers: [registry],
  });
  const reloads = new Counter({
    name: 'gateway_supergraph_reloads_total',
    help: 'Supergraph reloads by result (ok: a changed supergraph was swapped in; refused: the old one kept serving).',
    labelNames: ['result'],
    registers: [registry],
  });
  const documents = new Counter({
    name: 'gateway_document_cache_requests_total',
    help: 'Operations whose parsed and validated document came from the cache (hit) or not (miss); hit / (hit + miss) is the cache hit ratio. The query plan cache is keyed the same way.',
    labelNames: ['result'],
    registers: [registry],
  });
  // Counters the pools and the tracer keep themselves, copied at scrape time.
  const mirrored = (
    name: string,
    help: string,
    labelNames: string[],
    read: (set: (labels: Record<string, string>, value: number) => void) => void,
  ) =>
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        read((labels, value) => {
          if (value > 0) this.inc(labels, value);
        });
      },
    });
  mirrored(
    'gateway_pool_fetches_total',
    'Subgraph fetches through the pool, by result (failed: an error or a 5xx after every attempt).',
    ['subgraph', 'result'],
    (set) => {
      for (const s of sources.pools()) {
        set({ subgraph: s.name, result: 'ok' }, s.requests - s.failed);
        set({ subgraph: s.name, result: 'failed' }, s.failed);
      }
    },
  );
  mirrored(
    'gateway_pool_retries_total',
    'Attempts after the first: retry (backed off, within the budget), failover (connection refused), denied (budget refused a retry).',
    ['subgraph', 'kind'],
    (set) => {
      for (const s of sources.pools()) {
        set({ subgraph: s.name, kind: 'retry' }, s.retries);
        set({ subgraph: s.name, kind: 'failover' }, s.failovers);
        set({ subgraph: s.name, kind: 'denied' }, s.retriesDenied);
      }
    },
  );
  mirrored(
    'gateway_pool_hedges_total',
    "Hedged query attempts (a second attempt on another replica while the first was slower than the subgraph's p95): sent, won (answered first; the slow one was cancelled), and attempts cut by the adaptive attempt timeout (cut).",
    ['subgraph', 'kind'],
    (set) => {
      for (const s of sources.pools()) {
        set({ subgraph: s.name, kind: 'sent' }, s.hedges);
        set({ subgraph: s.name, kind: 'won' }, s.hedgesWon);
        set({ subgraph: s.name, kind: 'cut' }, s.attemptTimeouts);
      }
    },
  );
  mirrored(
    'gateway_pool_circuit_events_total',
    'Circuit breaker events per subgraph: opened (most of its recent fetches failed), rejected (a fetch failed at once while open).',
    ['subgraph', 'event'],
    (set) => {
      for (const { name: subgraph, circuit: c } of sources.pools()) {
        if (!c) continue;
        set({ subgraph, event: 'opened' }, c.opened);
        set({ subgraph, event: 'rejected' }, c.rejected);
      }
    },
  );
  new Gauge({
    name: 'gateway_pool_circuit_open',
    help: "1 while the subgraph's circuit is open or half-open (fetches fail at once, or only trials go through), 0 when closed. Absent when the breaker is off.",
    labelNames: ['subgraph'],
    registers: [registry],
    collect() {
      this.reset();
      for (const { name: subgraph, circuit: c } of sources.pools()) {
        if (c) this.set({ subgraph }, c.state === 'closed' ? 0 : 1);
      }
    },
  });
  mirrored(
    'gateway_routing_decisions_total',
    'Subgraph fetches routing rules routed, by rule and outcome: selected (served by the subset the rule chose), fallback (its subset had no available replica: sent to the default set), failed (the same, under routing.fallback fail: SUBGRAPH_UNAVAILABLE).',
    ['subgraph', 'rule', 'outcome'],
    (set) => {
      for (const s of sources.pools())
        for (const r of s.routing) set({ subgraph: s.name, rule: r.rule, outcome: r.outcome }, r.count);
    },
  );
  mirrored('gateway_pool_ejections_total', 'Replicas ejected by outlier detection.', ['subgraph'], (set) => {
    for (const s of sources.pools()) set({ subgraph: s.name }, s.ejections);
  });
  mirrored(
    'gateway_telemetry_spans_total',
    'Spans of sampled requests by fate: queued for export, exported, failed (collector down or refusing), dropped (export queue full).',
    ['result'],
    (set) => {
      const s = sources.spans?.();
      if (!s) return;
      set({ result: 'queued' }, s.queued);
      set({ result: 'exported' }, s.exported);
      set({ result: 'failed' }, s.failed);
      set({ result: 'dropped' }, s.dropped);
    },
  );
  subscriptionMetrics(registry, mirrored, () => sources.subscriptions?.());
  if (sources.admission) admissionMetrics(registry, sources.admission);
  // Refused credentials and the credential-stuffing throttle (auth/plugin.ts keeps the counts).
  mirrored('gateway_auth_failures_total', 'Credentials refused (401), by reason.', ['reason'], (set) => {
    for (const [reason, n] of Object.entries(sources.auth?.().failures ?? {})) set({ reason }, n ?? 0);
  });
  mirrored(
    'gateway_auth_throttled_total',
    'Requests refused with 429 by the failed-authentication throttle (auth.failureThrottle), before their credential was looked at.',
    [],
    (set) => set({}, sources.auth?.().throttled ?? 0),
  );
  const replicaLabels = ['subgraph', 'replica'] as const;
  // A gauge per replica field; `pick` returns undefined to leave a replica out (no sample yet).
  const poolGauge = (name: string, help: string, pick: (r: ReplicaStats) => number | undefined) =>
    new Gauge({
      name,
      help,
      labelNames: replicaLabels,
      registers: [registry],
      collect() {
        this.reset();
        for (const { name: subgraph, replicas } of sources.pools()) {
          for (const r of replicas) {
            const value = pick(r);
            if (value !== undefined && Number.isFinite(value)) this.set({ subgraph, replica: r.url }, value);
          }
        }
      },
    });
  poolGauge('gateway_pool_replica_requests', 'Requests sent to the replica since start.', (r) => r.requests);
  poolGauge('gateway_pool_replica_errors', 'Failed attempts on the replica since start.', (r) => r.errors);
  poolGauge('gateway_pool_replica_outstanding', 'Requests in flight on the replica.', (r) => r.outstanding);
  poolGauge(
    'gateway_pool_replica_up',
    '1 when the replica is in rotation (healthy or in slow start), else 0.',
    (r) => (r.state === 'healthy' || r.state === 'slow_start' ? 1 : 0),
  );
  poolGauge('gateway_pool_replica_latency_p99_seconds', 'p99 latency of the replica.', (r) =>
    r.latency.p99Ms === null ? undefined : r.latency.p99Ms / 1000,
  );

  const operations = new Set<string>();
  const operationLabel = (name: string | undefined | null) => {
    if (!name) return '-';
    if (operations.has(name)) return name;
    if (operations.size >= MAX_OPERATIONS || name.length > 64) return 'other';
    operations.add(name);
    return name;
  };

  const plugin: ApolloServerPlugin<BaseContext> = {
    async requestDidStart() {
      const start = performance.now();
      // Apollo parses and validates only documents its cache does not hold.
      let parsed = false;
      return {
        async parsingDidStart() {
          parsed = true;
        },
        async didResolveOperation() {
          documents.inc({ result: parsed ? 'miss' : 'hit' });
        },
        async willSendResponse(rc) {
          const operation = operationLabel(rc.operationName ?? rc.request.operationName);
          const status = rc.response.http.status ?? 200;
          requests.inc({ operation, status: String(status) });
          duration.observe({ operation }, (performance.now() - start) / 1000);
          const body = rc.response.body;
          // extensions.cost as the cost plugin writes it: { requestedQueryCost, actualQueryCost, … }
          const cost = body.kind === 'single' ? body.singleResult.extensions?.cost : undefined;
          if (typeof cost !== 'object' || cost === null) return;
          if ('requestedQueryCost' in cost && typeof cost.requestedQueryCost === 'number')
            estimated.observe(cost.requestedQueryCost);
          if ('actualQueryCost' in cost && typeof cost.actualQueryCost === 'number')
            actual.observe(cost.actualQueryCost);
        },
      };
    },
  };

  return {
    registry,
    plugin,
    reload: (ok) => reloads.inc({ result: ok ? 'ok' : 'refused' }),
    // Counted as the rate-limit plugin decides, not read back from the response: its throttleStatus
    // may land after this plugin's willSendResponse, behind the refund.
    rateLimitDecision: (outcome) => decisions.inc({ decision: outcome }),
    scrape: () => registry.metrics(),
    contentType: registry.contentType,
  };
}

type Mirror = (
  name: string,
  help: string,
  labelNames: string[],
  read: (set: (labels: Record<string, string>, value: number) => void) => void,
) => unknown;

/** Open connections and subscriptions, events delivered, and subscriptions ended by why. */
function subscriptionMetrics(
  registry: Registry,
  mirrored: Mirror,
  read: () => SubscriptionStats | undefined,
): void {
  const gauge = (
    name: string,
    help: string,
    labelNames: string[],
    fill: (g: Gauge, s: SubscriptionStats) => void,
  ) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        const s = read();
        if (s) fill(this, s);
      },
    });
  gauge(
    'gateway_subscription_connections',
    'Client connections open now: WebSockets, SSE and multipart streams.',
    ['protocol'],
    (g, s) => {
      for (const t of s.transports) g.set({ protocol: t.protocol }, t.connections);
    },
  );
  gauge('gateway_subscriptions_open', 'Subscriptions open now, by client protocol.', ['protocol'], (g, s) => {
    for (const t of s.transports) g.set({ protocol: t.protocol }, t.subscriptions);
  });
  gauge(
    'gateway_subscription_upstreams',
    "The gateway's own subscriptions to subgraph replicas open now (shared ones count once).",
    [],
    (g, s) => {
      g.set(s.upstream.upstreams);
    },
  );
  mirrored(
    'gateway_subscription_events_total',
    'Subscription events delivered to clients, by protocol.',
    ['protocol'],
    (set) => {
      for (const t of read()?.transports ?? []) set({ protocol: t.protocol }, t.events);
    },
  );
  mirrored(
    'gateway_subscription_streams_ended_total',
    'Client streams ended, by protocol and why: complete, client, slow-consumer, shutdown, error, keepalive.',
    ['protocol', 'reason'],
    (set) => {
      for (const t of read()?.transports ?? [])
        for (const [reason, n] of Object.entries(t.ended)) set({ protocol: t.protocol, reason }, n);
    },
  );
  mirrored(
    'gateway_subscriptions_ended_total',
    'Subscriptions the gateway ended or saw end, by why: complete, client, expired, revoked, budget, slow-consumer, upstream, error.',
    ['reason'],
    (set) => {
      for (const [reason, n] of Object.entries(read()?.starter.ended ?? {})) set({ reason }, n ?? 0);
    },
  );
  mirrored(
    'gateway_subscription_refused_total',
    'Connections or subscriptions refused by a transport limit.',
    ['protocol'],
    (set) => {
      for (const t of read()?.transports ?? []) set({ protocol: t.protocol }, t.refused);
    },
  );
  mirrored(
    'gateway_subscription_upstream_events_total',
    'Upstream subscription events: resubscribes (moved to another replica), dropped (a subscriber too slow), failed (no replica within the bound).',
    ['kind'],
    (set) => {
      const u = read()?.upstream;
      if (!u) return;
      set({ kind: 'resubscribes' }, u.resubscribes);
      set({ kind: 'dropped' }, u.dropped);
      set({ kind: 'failed' }, u.failed);
    },
  );
}
