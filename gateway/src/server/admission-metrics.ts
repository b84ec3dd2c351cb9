import { Counter, Gauge, type Registry } from 'prom-client';
import type { AdmissionSnapshot } from '../admission/index.ts';

/**
 * Admission's series: every refusal by status and reason, the adaptive limit and what runs and waits
 * under it, and the connection cap's counts. Read at scrape time from the admission's own snapshot.
 */
export function admissionMetrics(registry: Registry, read: () => AdmissionSnapshot): void {
  new Counter({
    name: 'gateway_http_refusals_total',
    help: 'Requests refused, by HTTP status and reason: 503 admission, queue_timeout, connections, event_loop, shutdown, no_replica, limiter_unavailable; 429 rate_limit (or the error code); 401 unauthenticated; 413 body_size; 431 header_size; 408 request_timeout; 400 malformed (unparsable HTTP).',
    labelNames: ['status', 'reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const r of read().refusals) this.inc({ status: String(r.status), reason: r.reason }, r.count);
    },
  });
  const gauge = (name: string, help: string, pick: (s: AdmissionSnapshot) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(pick(read()));
      },
    });
  gauge(
    'gateway_admission_limit',
    'GraphQL requests allowed to run at once now (the adaptive limit, at most server.maxConcurrentRequests).',
    (s) => s.limit,
  );
  gauge(
    'gateway_admission_inflight',
    'GraphQL requests running now under the admission limit.',
    (s) => s.inflight,
  );
  gauge('gateway_admission_queued', 'GraphQL requests waiting for a slot now.', (s) => s.queued);
  gauge('gateway_connections_open', 'Client connections open now.', (s) => s.connections.open);
  new Counter({
    name: 'gateway_connections_dropped_total',
    help: 'Connections closed on accept, unanswered, over server.maxConnectionsHard.',
    registers: [registry],
    collect() {
      this.reset();
      const n = read().connections.dropped;
      if (n > 0) this.inc(n);
    },
  });
}
