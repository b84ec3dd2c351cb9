import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { ReplicaPool } from '../pool/index.ts';

export interface GatewayMetrics {
  readonly registry: Registry;
  /** Apollo Server plugin counting requests, latency, costs and rate-limit refusals. */
  readonly plugin: ApolloServerPlugin<BaseContext>;
  /** Counts a supergraph reload attempt. */
  reload(ok: boolean): void;
  /** Prometheus text exposition of everything. */
  scrape(): Promise<string>;
  readonly contentType: string;
}

// Operation names come from clients: cap how many distinct ones become label values, so a client
// sending random names cannot grow the registry without bound.
const MAX_OPERATIONS = 200;

const COST_BUCKETS = [0, 1, 5, 10, 50, 100, 500, 1_000, 5_000, 10_000, 100_000, 1_000_000];

/** The gateway's Prometheus metrics (GET /metrics), on a registry of its own. */
export function createGatewayMetrics(pools: ReadonlyMap<string, ReplicaPool>): GatewayMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry }); // includes nodejs_eventloop_lag_seconds
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
    help: 'Rate-limit decisions: admitted, limited (429) or unavailable (503).',
    labelNames: ['decision'],
    registers: [registry],
  });
  const reloads = new Counter({
    name: 'gateway_supergraph_reloads_total',
    help: 'Supergraph reloads by result (ok: a changed supergraph was swapped in; refused: the old one kept serving).',
    labelNames: ['result'],
    registers: [registry],
  });
  const replicaLabels = ['subgraph', 'replica'] as const;
  const poolGauge = (name: string, help: string, pick: (r: Record<string, unknown>) => unknown) =>
    new Gauge({
      name,
      help,
      labelNames: replicaLabels,
      registers: [registry],
      collect() {
        this.reset();
        for (const [subgraph, pool] of pools) {
          for (const r of pool.stats() as unknown as Record<string, unknown>[]) {
            const value = pick(r);
            if (typeof value === 'number' && Number.isFinite(value))
              this.set({ subgraph, replica: String(r.url) }, value);
          }
        }
      },
    });
  poolGauge('gateway_pool_replica_requests', 'Requests sent to the replica since start.', (r) => r.requests);
  poolGauge('gateway_pool_replica_errors', 'Failed attempts on the replica since start.', (r) => r.errors);
  poolGauge(
    'gateway_pool_replica_outstanding',
    'Requests in flight on the replica.',
    (r) => r.outstanding ?? r.inflight,
  );
  poolGauge(
    'gateway_pool_replica_up',
    '1 when the replica is in rotation (healthy or in slow start), else 0.',
    (r) =>
      r.state === undefined
        ? r.up === false
          ? 0
          : 1
        : r.state === 'healthy' || r.state === 'slow_start'
          ? 1
          : 0,
  );
  poolGauge('gateway_pool_replica_latency_p99_seconds', 'p99 latency of the replica.', (r) => {
    const latency = r.latency as { p99?: number } | undefined;
    return typeof latency?.p99 === 'number' ? latency.p99 / 1000 : undefined;
  });

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
      return {
        async willSendResponse(rc) {
          const operation = operationLabel(rc.operationName ?? rc.request.operationName);
          const status = rc.response.http.status ?? 200;
          requests.inc({ operation, status: String(status) });
          duration.observe({ operation }, (performance.now() - start) / 1000);
          if (status === 429) decisions.inc({ decision: 'limited' });
          const body = rc.response.body;
          const cost =
            body.kind === 'single'
              ? (body.singleResult.extensions?.cost as
                  | { requestedQueryCost?: number; actualQueryCost?: number; throttleStatus?: unknown }
                  | undefined)
              : undefined;
          if (cost?.throttleStatus) decisions.inc({ decision: 'admitted' });
          if (typeof cost?.requestedQueryCost === 'number') estimated.observe(cost.requestedQueryCost);
          if (typeof cost?.actualQueryCost === 'number') actual.observe(cost.actualQueryCost);
        },
      };
    },
  };

  return {
    registry,
    plugin,
    reload: (ok) => reloads.inc({ result: ok ? 'ok' : 'refused' }),
    scrape: () => registry.metrics(),
    contentType: registry.contentType,
  };
}
