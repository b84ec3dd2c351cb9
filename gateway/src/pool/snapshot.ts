import type { CircuitSnapshot } from './circuit-breaker.ts';
import type { LatencySummary } from './latency.ts';
import type { OutlierInfo } from './outlier.ts';
import type { Replica, ReplicaLabels } from './replica.ts';
import type { StrategyName } from './strategies/index.ts';
import type { RoutingCount } from './subset.ts';

export type ReplicaState = 'healthy' | 'slow_start' | 'ejected' | 'unhealthy';

export interface ReplicaStats {
  url: string;
  /** What routing rules select by (`{ track: canary }`); {} when none. */
  labels: ReplicaLabels;
  /** unhealthy (failing active checks) > ejected (outlier detection) > slow_start > healthy. */
  state: ReplicaState;
  /** For readiness: false when unhealthy or ejected, true once it answered, null when not known yet. */
  up: boolean | null;
  /** Attempts sent to this replica, failed ones included. */
  requests: number;
  /** Attempts that failed: 5xx, timeouts, resets, refused connections. */
  errors: number;
  outstanding: number;
  /** Effective weight now (configured weight × slow-start factor). */
  weight: number;
  latency: LatencySummary;
  consecutiveFailures: number;
  timesEjected: number;
  /** Time left in the current ejection, in ms. */
  ejectedForMs: number;
  lastError: string | null;
}

/** The pool's counters, from its start; the send loop and the replica set count into one of these. */
export interface PoolCounters {
  /** Subgraph fetches sent through the pool. */
  requests: number;
  /** Fetches that ended with an error or a 5xx after all their attempts. */
  failed: number;
  /** Backed-off retries sent (resets, timeouts, retryable statuses). */
  retries: number;
  /** Moves to another replica after a refused connection (nothing was sent, so no backoff or budget). */
  failovers: number;
  /** Retries the retry budget refused. */
  retriesDenied: number;
  /** Fetches refused because every candidate replica was at `maxConcurrentPerReplica`. */
  overloaded: number;
  ejections: number;
  /** Hedged attempts sent: a query's second attempt, on another replica, while its first was slow. */
  hedges: number;
  /** Fetches a hedge answered first (the slow attempt was cancelled). */
  hedgesWon: number;
  /** Query attempts cut by the adaptive attempt timeout. */
  attemptTimeouts: number;
}

/** The whole pool, for the admin view and metrics. Counters run from the pool's start. */
export interface PoolSnapshot extends PoolCounters {
  name: string;
  strategy: StrategyName;
  timeoutMs: number;
  /** True when under the panic threshold: traffic goes to every replica, ignoring health. */
  panic: boolean;
  /** The circuit breaker; undefined when it is off. */
  circuit: CircuitSnapshot | undefined;
  outstanding: number;
  /** The adaptive attempt timeout and hedge delay of a query now (ms); null while off or still learning. */
  adaptive: { attemptTimeoutMs: number | null; hedgeDelayMs: number | null };
  /** Fetches routing rules routed, by rule and outcome. */
  routing: RoutingCount[];
  replicas: ReplicaStats[];
  /** Last DNS discovery failure, if the last round had one. */
  discoveryError: string | null;
}

export function newCounters(): PoolCounters {
  return {
    requests: 0,
    failed: 0,
    retries: 0,
    failovers: 0,
    retriesDenied: 0,
    overloaded: 0,
    ejections: 0,
    hedges: 0,
    hedgesWon: 0,
    attemptTimeouts: 0,
  };
}

const round = (n: number | null) => (n === null ? null : Math.round(n * 100) / 100);

/** One replica's numbers, given what outlier detection knows of it. */
export function replicaStats(r: Replica, outlier: OutlierInfo, ejected: boolean): ReplicaStats {
  const state: ReplicaState =
    r.health.status === 'unhealthy'
      ? 'unhealthy'
      : ejected
        ? 'ejected'
        : r.slowStartSince !== undefined
          ? 'slow_start'
          : 'healthy';
  return {
    url: r.url,
    labels: r.labels,
    state,
    up:
      state === 'unhealthy' || state === 'ejected'
        ? false
        : r.answered || r.health.status === 'healthy'
          ? true
          : null,
    requests: r.requests,
    errors: r.errors,
    outstanding: r.outstanding,
    weight: Math.round(r.weight * 1000) / 1000,
    latency: {
      ewmaMs: round(r.cost) ?? 0,
      p50Ms: round(r.latency.percentile(50)),
      p99Ms: round(r.latency.percentile(99)),
      count: r.latency.count,
    },
    consecutiveFailures: outlier.consecutiveFailures,
    timesEjected: outlier.timesEjected,
    ejectedForMs: outlier.ejectedForMs,
    lastError: r.lastError,
  };
}
