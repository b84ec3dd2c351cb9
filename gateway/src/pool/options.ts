import {
  ATTEMPT_TIMEOUT_DEFAULTS,
  type AttemptTimeoutOptions,
  HEDGING_DEFAULTS,
  type HedgingOptions,
} from './adaptive.ts';
import { CIRCUIT_BREAKER_DEFAULTS, type CircuitBreakerOptions } from './circuit-breaker.ts';
import type { Resolver } from './discovery.ts';
import { ACTIVE_HEALTH_DEFAULTS } from './health.ts';
import { OUTLIER_DEFAULTS, type OutlierOptions } from './outlier.ts';
import { type FailureKind, RETRY_DEFAULTS, type RetryOptions } from './retry.ts';
import type { StrategyName } from './strategies/index.ts';

/**
 * Every default of the pool, once: the constructor falls back to these and `config/schema.ts` takes its
 * zod `.default(...)` values from here, so the two cannot drift.
 */
export const POOL_DEFAULTS = {
  timeoutMs: 30_000,
  perTryTimeoutMs: 0,
  connectionsPerReplica: 64,
  keepAliveTimeoutMs: 30_000,
  strategy: 'p2c_ewma',
  /** Weight of a replica URL or `dns://` entry that `weights` does not name. */
  weight: 1,
  ewmaDecayMs: 10_000,
  slowStartWindowMs: 30_000,
  slowStartAggression: 1,
  slowStartMinWeightPercent: 10,
  panicThresholdPercent: 50,
  maxConcurrentPerReplica: 1024,
  deadlineHeader: 'x-tollgate-deadline-ms',
  healthCheck: { intervalMs: 2_000, timeoutMs: 1_000, ...ACTIVE_HEALTH_DEFAULTS },
  outlier: { ...OUTLIER_DEFAULTS, unejectOnActiveCheck: true },
  retry: RETRY_DEFAULTS,
  circuitBreaker: { enabled: false, ...CIRCUIT_BREAKER_DEFAULTS },
  attemptTimeout: ATTEMPT_TIMEOUT_DEFAULTS,
  hedging: HEDGING_DEFAULTS,
  discovery: { refreshMs: 10_000 },
} as const;

export interface HealthCheckOptions {
  /** Time between two rounds of active checks; 0 turns the pool's own checks off (`probe()` still works). @default 2000 */
  intervalMs?: number;
  /** Timeout of one check. @default 1000 */
  timeoutMs?: number;
  /** Consecutive passing checks that bring an unhealthy replica back. @default 2 */
  healthyThreshold?: number;
  /** Consecutive failing checks that take a healthy replica out. @default 2 */
  unhealthyThreshold?: number;
  /** GET this path on each replica (expecting 200) instead of POSTing `{ __typename }` to its GraphQL URL. */
  path?: string | undefined;
}

/** Outlier detection, plus whether a passing active check ends an ejection early (Envoy's default). */
export interface PoolOutlierOptions extends OutlierOptions {
  /** @default true */
  unejectOnActiveCheck?: boolean;
}

/** The subgraph's circuit breaker, on when `enabled`. */
export interface PoolCircuitBreakerOptions extends CircuitBreakerOptions {
  /** @default false */
  enabled?: boolean;
}

/** Per-subgraph overrides, keyed by subgraph name in `overrides`; each defaults to the pool-wide value. */
export interface PoolOverrides {
  /** Fetch deadline for this subgraph. @default ReplicaPoolOptions.timeoutMs */
  timeoutMs?: number | undefined;
  /** Attempt deadline for this subgraph. @default ReplicaPoolOptions.perTryTimeoutMs */
  perTryTimeoutMs?: number | undefined;
  /** Strategy for this subgraph. @default ReplicaPoolOptions.strategy */
  strategy?: StrategyName | undefined;
  /** Concurrency limit per replica of this subgraph. @default ReplicaPoolOptions.maxConcurrentPerReplica */
  maxConcurrentPerReplica?: number | undefined;
  /** Circuit breaker of this subgraph. @default ReplicaPoolOptions.circuitBreaker */
  circuitBreaker?: PoolCircuitBreakerOptions | undefined;
  /** Adaptive attempt timeout of this subgraph, key by key over the pool-wide one. @default ReplicaPoolOptions.attemptTimeout */
  attemptTimeout?: AttemptTimeoutOptions | undefined;
  /** Hedging of this subgraph, key by key over the pool-wide one. @default ReplicaPoolOptions.hedging */
  hedging?: HedgingOptions | undefined;
}

/**
 * TLS of the connections to https:// replicas (undici `connect` options): a client certificate for
 * mutual TLS, and the CA their certificates must chain to instead of the system's public CAs.
 */
export interface ReplicaTlsOptions {
  /** PEM client certificate (with its chain) the gateway presents. */
  cert?: string | Buffer | undefined;
  /** PEM private key of `cert`. */
  key?: string | Buffer | undefined;
  /** PEM CA bundle the replicas' certificates must chain to. @default the system's CAs */
  ca?: string | Buffer | undefined;
}

export interface ReplicaPoolOptions {
  /** Deadline of one subgraph fetch, retries included; a `deadline` given to `send` may cut it shorter. @default 30000 */
  timeoutMs?: number;
  /** Deadline of one attempt; 0 means the fetch's whole remaining time (so a timed-out query is not retried). @default 0 */
  perTryTimeoutMs?: number;
  /** Keep-alive connections kept per replica. @default 64 */
  connectionsPerReplica?: number;
  /** Idle time before a keep-alive connection is closed. @default 30000 */
  keepAliveTimeoutMs?: number;
  /** How a replica is picked. @default 'p2c_ewma' */
  strategy?: StrategyName;
  /** Weight per replica URL (or per `dns://` entry, for every address it resolves to). @default 1 each */
  weights?: Readonly<Record<string, number>>;
  /** Decay time τ of the peak-EWMA latency. @default 10000 */
  ewmaDecayMs?: number;
  /** Slow-start ramp of a replica that joins or recovers; 0 turns it off. @default 30000 */
  slowStartWindowMs?: number;
  /** Slow-start curve: 1 linear, higher starts slower. @default 1 */
  slowStartAggression?: number;
  /** Slow-start weight floor, as a share of the full weight. @default 10 */
  slowStartMinWeightPercent?: number;
  /** Below this share of available replicas, balance over all of them, ignoring health; 0 never. @default 50 */
  panicThresholdPercent?: number;
  /** Requests in flight per replica; a full replica is skipped, and a pool of full replicas fails fast. @default 1024 */
  maxConcurrentPerReplica?: number;
  /** Header carrying the remaining time budget in ms to the subgraph; '' sends none. @default 'x-tollgate-deadline-ms' */
  deadlineHeader?: string;
  healthCheck?: HealthCheckOptions;
  outlier?: PoolOutlierOptions;
  retry?: RetryOptions;
  /** Fail fetches at once while the subgraph fails most of them (circuit-breaker.ts). @default off */
  circuitBreaker?: PoolCircuitBreakerOptions;
  /**
   * A query's attempt is cut after the subgraph's recent p99 × 3 (within [250 ms, 10 s]) and retried on
   * another replica; mutations are never cut by it. @default on
   */
  attemptTimeout?: AttemptTimeoutOptions;
  /** A query's first attempt slower than the subgraph's p95 gets a second one on another replica. @default on */
  hedging?: HedgingOptions;
  discovery?: {
    /** How often `dns://` entries are resolved again. @default 10000 */
    refreshMs?: number;
  };
  /** TLS to https:// replicas (mTLS, a private CA). @default none: the system's CAs, no client certificate */
  tls?: ReplicaTlsOptions | undefined;
  /** Settings per subgraph name (case-insensitive), over the ones above. @default {} */
  overrides?: Readonly<Record<string, PoolOverrides>>;
  /** Time source for ejections, slow start and EWMA decay (tests use a fake one). @default performance.now */
  clock?: () => number;
  /** Uniform random in [0, 1) for P2C sampling, backoff jitter and health-check jitter. @default Math.random */
  random?: () => number;
  /** Resolves `dns://` entries. @default dns.lookup with all addresses */
  resolver?: Resolver;
  /** Called after every attempt (for metrics); must not throw. */
  onAttempt?: (event: AttemptEvent) => void;
}

/** One attempt of a fetch, for metrics. */
export interface AttemptEvent {
  pool: string;
  replica: string;
  /** 1 for the first attempt of a fetch. */
  attempt: number;
  durationMs: number;
  /** `ok` is any answer below 500; `status` an answer of 500 or more. */
  outcome: 'ok' | 'status' | FailureKind;
  status?: number;
}

/** The options of one pool with the subgraph's overrides applied, defaults filled in and numbers clamped. */
export interface ResolvedPoolOptions {
  timeoutMs: number;
  perTryTimeoutMs: number;
  connections: number;
  keepAliveTimeoutMs: number;
  strategy: StrategyName;
  weights: Readonly<Record<string, number>>;
  ewmaDecayMs: number;
  slowStart: { windowMs: number; aggression: number; minWeightPercent: number };
  panicThresholdPercent: number;
  maxConcurrent: number;
  /** Lower-cased; '' sends none. */
  deadlineHeader: string;
  health: Required<Omit<HealthCheckOptions, 'path'>> & { path: string | undefined };
  /** Handed to `OutlierDetector`, which fills in its own defaults. */
  outlier: OutlierOptions;
  unejectOnActiveCheck: boolean;
  retry: { maxAttempts: number; baseMs: number; maxMs: number; onStatus: readonly number[] };
  /** Handed to `RetryBudget`, which fills in its own defaults. */
  retryBudget: RetryOptions;
  /** Undefined when the breaker is off. */
  circuitBreaker: PoolCircuitBreakerOptions | undefined;
  attemptTimeout: Required<AttemptTimeoutOptions>;
  hedging: Required<HedgingOptions>;
  discoveryRefreshMs: number;
  clock: () => number;
  random: () => number;
  resolver: Resolver | undefined;
  onAttempt: ((event: AttemptEvent) => void) | undefined;
  tls: ReplicaTlsOptions | undefined;
}

const nowMs = () => performance.now();

const positive = (v: number | undefined, fallback: number) =>
  v !== undefined && Number.isFinite(v) && v > 0 ? v : fallback;

const percent = (v: number | undefined, fallback: number) => Math.min(100, Math.max(0, v ?? fallback));

/** Applies the overrides of subgraph `name` (matched case-insensitively), then the defaults. Pure. */
export function resolvePoolOptions(name: string, options: ReplicaPoolOptions = {}): ResolvedPoolOptions {
  const d = POOL_DEFAULTS;
  const override =
    Object.entries(options.overrides ?? {}).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1] ?? {};
  const hc = options.healthCheck ?? {};
  const retry = options.retry ?? {};
  const circuit = override.circuitBreaker ?? options.circuitBreaker;
  return {
    timeoutMs: positive(override.timeoutMs ?? options.timeoutMs, d.timeoutMs),
    perTryTimeoutMs: Math.max(0, override.perTryTimeoutMs ?? options.perTryTimeoutMs ?? d.perTryTimeoutMs),
    connections: positive(options.connectionsPerReplica, d.connectionsPerReplica),
    keepAliveTimeoutMs: positive(options.keepAliveTimeoutMs, d.keepAliveTimeoutMs),
    strategy: override.strategy ?? options.strategy ?? d.strategy,
    weights: options.weights ?? {},
    ewmaDecayMs: positive(options.ewmaDecayMs, d.ewmaDecayMs),
    slowStart: {
      windowMs: Math.max(0, options.slowStartWindowMs ?? d.slowStartWindowMs),
      aggression: positive(options.slowStartAggression, d.slowStartAggression),
      minWeightPercent: percent(options.slowStartMinWeightPercent, d.slowStartMinWeightPercent),
    },
    panicThresholdPercent: percent(options.panicThresholdPercent, d.panicThresholdPercent),
    maxConcurrent: positive(
      override.maxConcurrentPerReplica ?? options.maxConcurrentPerReplica,
      d.maxConcurrentPerReplica,
    ),
    deadlineHeader: (options.deadlineHeader ?? d.deadlineHeader).toLowerCase(),
    health: {
      intervalMs: Math.max(0, hc.intervalMs ?? d.healthCheck.intervalMs),
      timeoutMs: positive(hc.timeoutMs, d.healthCheck.timeoutMs),
      healthyThreshold: positive(hc.healthyThreshold, d.healthCheck.healthyThreshold),
      unhealthyThreshold: positive(hc.unhealthyThreshold, d.healthCheck.unhealthyThreshold),
      path: hc.path || undefined,
    },
    outlier: options.outlier ?? {},
    unejectOnActiveCheck: options.outlier?.unejectOnActiveCheck ?? d.outlier.unejectOnActiveCheck,
    retry: {
      maxAttempts: Math.max(1, Math.floor(retry.maxAttempts ?? d.retry.maxAttempts)),
      baseMs: Math.max(0, retry.backoffBaseMs ?? d.retry.backoffBaseMs),
      maxMs: Math.max(0, retry.backoffMaxMs ?? d.retry.backoffMaxMs),
      onStatus: retry.onStatus ?? d.retry.onStatus,
    },
    retryBudget: retry,
    circuitBreaker: circuit?.enabled ? circuit : undefined,
    attemptTimeout: resolveAttemptTimeout({
      ...defined(options.attemptTimeout ?? {}),
      ...defined(override.attemptTimeout ?? {}),
    }),
    hedging: resolveHedging({ ...defined(options.hedging ?? {}), ...defined(override.hedging ?? {}) }),
    discoveryRefreshMs: positive(options.discovery?.refreshMs, d.discovery.refreshMs),
    clock: options.clock ?? nowMs,
    random: options.random ?? Math.random,
    resolver: options.resolver,
    onAttempt: options.onAttempt,
    tls: options.tls,
  };
}

const defined = <T extends object>(o: T): Partial<T> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

function resolveAttemptTimeout(o: AttemptTimeoutOptions): Required<AttemptTimeoutOptions> {
  const d = ATTEMPT_TIMEOUT_DEFAULTS;
  const v = { ...d, ...o };
  const minMs = positive(v.minMs, d.minMs);
  return {
    enabled: v.enabled,
    percentile: Math.min(100, Math.max(1, v.percentile)),
    factor: positive(v.factor, d.factor),
    minMs,
    maxMs: Math.max(minMs, positive(v.maxMs, d.maxMs)),
  };
}

function resolveHedging(o: HedgingOptions): Required<HedgingOptions> {
  const d = HEDGING_DEFAULTS;
  const v = { ...d, ...o };
  return {
    enabled: v.enabled,
    delayPercentile: Math.min(100, Math.max(1, v.delayPercentile)),
    minDelayMs: Math.max(0, v.minDelayMs),
    maxExtraPercent: percent(v.maxExtraPercent, d.maxExtraPercent),
    windowMs: positive(v.windowMs, d.windowMs),
  };
}
