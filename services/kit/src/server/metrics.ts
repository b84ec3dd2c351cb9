// Prometheus metrics of a subgraph process (GET /metrics): GraphQL requests, DataLoader batches and
// where their keys came from (the shared cache, another request's read in flight, or SQL), statements,
// cache bypasses and invalidations, open WebSocket subscriptions, plus Node's own (event-loop lag, heap, GC). It sits above the
// concerns it reports on: each exports a typed snapshot through its index.ts, and createSubgraph passes
// them in. Snapshots are read at scrape time, so serving costs nothing per request.
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { LoaderStats } from '../loaders/index.ts';

export interface SubgraphMetrics {
  readonly contentType: string;
  scrape(): Promise<string>;
}

/** What the metrics read at each scrape. */
export interface SubgraphMetricsSources {
  /** GraphQL requests this subgraph served. */
  requests: () => number;
  /** Subscriptions open on its WebSockets now. @default none counted */
  subscriptions?: () => number;
  /** Every loader's counters in the process, by `<service>.<loader>` (the loaders' `loaderStats`). */
  loaders: () => Record<string, LoaderStats>;
}

let shared: Registry | undefined;
const requestCounts = new Map<string, () => number>();
const subscriptionCounts = new Map<string, () => number>();
type EachLoader = (fn: (labels: { service: string; loader: string }, stats: LoaderStats) => void) => void;

/** Per loader (`<service>.<loader>`) of a snapshot: the counters to expose, with their labels. */
function eachLoaderOf(snapshot: () => Record<string, LoaderStats>): EachLoader {
  return (fn) => {
    for (const [name, stats] of Object.entries(snapshot())) {
      const dot = name.indexOf('.');
      fn({ service: name.slice(0, dot), loader: name.slice(dot + 1) }, stats);
    }
  };
}

function counter(
  registry: Registry,
  name: string,
  help: string,
  labelNames: string[],
  fill: (c: Counter) => void,
): void {
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      fill(this);
    },
  });
}

function createRegistry(loaders: () => Record<string, LoaderStats>): Registry {
  const eachLoader = eachLoaderOf(loaders);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  counter(
    registry,
    'subgraph_graphql_requests_total',
    'GraphQL requests this process served, by service.',
    ['service'],
    (c) => {
      for (const [service, count] of requestCounts) c.inc({ service }, count());
    },
  );
  new Gauge({
    name: 'subgraph_websocket_subscriptions',
    help: "GraphQL subscriptions open on this process's WebSockets, by service.",
    labelNames: ['service'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [service, count] of subscriptionCounts) this.set({ service }, count());
    },
  });
  counter(registry, 'subgraph_loader_batches_total', 'DataLoader batches.', ['service', 'loader'], (c) =>
    eachLoader((l, s) => c.inc(l, s.batches)),
  );
  counter(
    registry,
    'subgraph_loader_keys_total',
    'Keys loaded, by where the answer came from: the shared cache (cache), a read already in flight for another request (joined), or a statement of their own (database). cache / all is the cache hit ratio.',
    ['service', 'loader', 'source'],
    (c) =>
      eachLoader((l, s) => {
        c.inc({ ...l, source: 'cache' }, s.hits);
        c.inc({ ...l, source: 'joined' }, s.joined);
        c.inc({ ...l, source: 'database' }, Math.max(0, s.misses - s.joined));
      }),
  );
  counter(
    registry,
    'subgraph_loader_statements_total',
    'SQL statements the loaders sent.',
    ['service', 'loader'],
    (c) => eachLoader((l, s) => c.inc(l, s.statements)),
  );
  counter(
    registry,
    'subgraph_loader_cache_bypassed_total',
    'Batches that went straight to the database because the cache failed, was slow, or was unsure.',
    ['service', 'loader'],
    (c) => eachLoader((l, s) => c.inc(l, s.bypassed)),
  );
  counter(
    registry,
    'subgraph_loader_invalidations_total',
    'Cache invalidations after writes; failed ones are retried in the background.',
    ['service', 'loader', 'result'],
    (c) =>
      eachLoader((l, s) => {
        c.inc({ ...l, result: 'ok' }, s.invalidations - s.invalidationFailures);
        c.inc({ ...l, result: 'failed' }, s.invalidationFailures);
      }),
  );
  return registry;
}

/**
 * The metrics of this process, with `sources.requests` counted for `service`. One registry per process
 * (the loader counters and Node's are process-wide); several subgraphs in one process share it.
 */
export function subgraphMetrics(service: string, sources: SubgraphMetricsSources): SubgraphMetrics {
  // The loader counters are process-wide, so every subgraph passes the same snapshot: the first one counts.
  shared ??= createRegistry(sources.loaders);
  requestCounts.set(service, sources.requests);
  if (sources.subscriptions) subscriptionCounts.set(service, sources.subscriptions);
  const registry = shared;
  return { contentType: registry.contentType, scrape: () => registry.metrics() };
}
