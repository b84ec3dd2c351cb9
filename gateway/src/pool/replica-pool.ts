import { setTimeout as sleep } from 'node:timers/promises';
import { type Context, context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { failSpan, tracer } from '../telemetry/index.ts';
import { CircuitBreaker, type CircuitBreakerOptions, type CircuitSnapshot } from './circuit-breaker.ts';
import { DnsDiscovery, isDnsEntry, parseDnsEntry, type Resolver } from './discovery.ts';
import { PoolError, type PoolErrorCode } from './errors.ts';
import type { CheckResult } from './health.ts';
import type { LatencySummary } from './latency.ts';
import { OutlierDetector, type OutlierOptions } from './outlier.ts';
import { post } from './post.ts';
import { Replica } from './replica.ts';
import {
  backoffMs,
  classifyError,
  type FailureKind,
  mayRetry,
  RetryBudget,
  type RetryOptions,
} from './retry.ts';
import { slowStartFactor } from './slow-start.ts';
import { createStrategy, type Strategy, type StrategyName } from './strategies/index.ts';

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
}

export interface ReplicaPoolOptions {
  /** Deadline of one subgraph fetch, retries included; the incoming request's own deadline may cut it shorter. @default 30000 */
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
  discovery?: {
    /** How often `dns://` entries are resolved again. @default 10000 */
    refreshMs?: number;
  };
  /** Settings per subgraph name (case-insensitive), over the ones above. @default {} */
  overrides?: Readonly<Record<string, PoolOverrides>>;
  /** Time source for ejections, slow start and EWMA decay (tests use a fake one). @default performance.now */
  clock?: () => number;
  /** Uniform random in [0, 1) for P2C sampling and backoff jitter. @default Math.random */
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

export type ReplicaState = 'healthy' | 'slow_start' | 'ejected' | 'unhealthy';

export interface ReplicaStats {
  url: string;
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

/** The whole pool, for the admin view and metrics. Counters run from the pool's start. */
export interface PoolSnapshot {
  name: string;
  strategy: StrategyName;
  timeoutMs: number;
  /** True when under the panic threshold: traffic goes to every replica, ignoring health. */
  panic: boolean;
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
  /** The circuit breaker; undefined when it is off. */
  circuit: CircuitSnapshot | undefined;
  outstanding: number;
  replicas: ReplicaStats[];
  /** Last DNS discovery failure, if the last round had one. */
  discoveryError: string | null;
}

export interface SendResult {
  status: number;
  contentType: string;
  body: string;
  replica: string;
}

export interface SendOptions {
  /** False for a mutation: it moves to another replica only when the connection failed before sending. */
  idempotent: boolean;
  /** Aborts the fetch (the incoming request went away). */
  signal?: AbortSignal | undefined;
  /** Deadline of the incoming request, in epoch ms (`Date.now()`); the fetch gets at most what is left. */
  deadline?: number | undefined;
  /**
   * The trace context the attempts belong to (the fetch span's). Passed rather than read from the active
   * context: the gateway propagates trace context explicitly (it runs no async-context store).
   * @default the active context
   */
  traceContext?: Context | undefined;
}

type Outcome =
  | { kind: 'response'; result: SendResult }
  | { kind: FailureKind; error: unknown; replica: string; afterMs: number };

const nowMs = () => performance.now();

/**
 * The replicas of one subgraph. Each fetch picks a replica with the configured strategy among those
 * available (not failing active checks, not ejected, not full), retries idempotent fetches on another
 * replica within a budget and a deadline, and feeds every answer back into outlier detection and the
 * latency estimate. The data source only calls `send`.
 */
/** Fetch failures that count against the circuit: the subgraph timed out, refused, broke or answered 5xx. */
const CIRCUIT_FAILURES: ReadonlySet<PoolErrorCode> = new Set<PoolErrorCode>([
  'POOL_TIMEOUT',
  'POOL_NO_HEALTHY_REPLICA',
  'POOL_UPSTREAM_ERROR',
  'POOL_BAD_RESPONSE',
]);

export class ReplicaPool {
  readonly name: string;
  #replicas: Replica[] = [];
  readonly #draining = new Set<Promise<void>>();
  #closed = false;
  #closing: Promise<void> | undefined;
  #started = false;
  #constructed = false;
  readonly #strategy: Strategy;
  readonly #outlier: OutlierDetector;
  readonly #budget: RetryBudget;
  readonly #clock: () => number;
  readonly #random: () => number;
  readonly #onAttempt: ((event: AttemptEvent) => void) | undefined;
  readonly #weights: Readonly<Record<string, number>>;
  readonly #o: {
    timeoutMs: number;
    perTryTimeoutMs: number;
    connections: number;
    keepAliveTimeoutMs: number;
    ewmaDecayMs: number;
    slowStart: { windowMs: number; aggression: number; minWeightPercent: number };
    panicThresholdPercent: number;
    maxConcurrent: number;
    deadlineHeader: string;
    health: Required<Omit<HealthCheckOptions, 'path'>> & { path: string | undefined };
    unejectOnActiveCheck: boolean;
    retry: { maxAttempts: number; baseMs: number; maxMs: number; onStatus: readonly number[] };
    discoveryRefreshMs: number;
  };
  readonly #breaker: CircuitBreaker | undefined;
  readonly #counters = {
    requests: 0,
    failed: 0,
    retries: 0,
    failovers: 0,
    retriesDenied: 0,
    overloaded: 0,
    ejections: 0,
  };
  /** What the pool was given, in order: static replica URLs and `dns://` entries. */
  #sources: string[] = [];
  #discovery: DnsDiscovery | undefined;
  readonly #resolver: Resolver | undefined;
  #discoveryError: string | null = null;
  /** Settles when the latest DNS resolution is done; `send` waits for it. */
  #ready: Promise<void>;
  #probing: Promise<void> | undefined;
  #healthTimer: NodeJS.Timeout | undefined;
  #discoveryTimer: NodeJS.Timeout | undefined;

  constructor(name: string, urls: readonly string[], options: ReplicaPoolOptions = {}) {
    this.name = name;
    const override =
      Object.entries(options.overrides ?? {}).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1] ??
      {};
    const positive = (v: number | undefined, fallback: number) =>
      v !== undefined && Number.isFinite(v) && v > 0 ? v : fallback;
    const hc = options.healthCheck ?? {};
    const retry = options.retry ?? {};
    this.#o = {
      timeoutMs: positive(override.timeoutMs ?? options.timeoutMs, 30_000),
      perTryTimeoutMs: Math.max(0, override.perTryTimeoutMs ?? options.perTryTimeoutMs ?? 0),
      connections: positive(options.connectionsPerReplica, 64),
      keepAliveTimeoutMs: positive(options.keepAliveTimeoutMs, 30_000),
      ewmaDecayMs: positive(options.ewmaDecayMs, 10_000),
      slowStart: {
        windowMs: Math.max(0, options.slowStartWindowMs ?? 30_000),
        aggression: positive(options.slowStartAggression, 1),
        minWeightPercent: Math.min(100, Math.max(0, options.slowStartMinWeightPercent ?? 10)),
      },
      panicThresholdPercent: Math.min(100, Math.max(0, options.panicThresholdPercent ?? 50)),
      maxConcurrent: positive(override.maxConcurrentPerReplica ?? options.maxConcurrentPerReplica, 1024),
      deadlineHeader: (options.deadlineHeader ?? 'x-tollgate-deadline-ms').toLowerCase(),
      health: {
        intervalMs: Math.max(0, hc.intervalMs ?? 2_000),
        timeoutMs: positive(hc.timeoutMs, 1_000),
        healthyThreshold: positive(hc.healthyThreshold, 2),
        unhealthyThreshold: positive(hc.unhealthyThreshold, 2),
        path: hc.path || undefined,
      },
      unejectOnActiveCheck: options.outlier?.unejectOnActiveCheck ?? true,
      retry: {
        maxAttempts: Math.max(1, Math.floor(retry.maxAttempts ?? 3)),
        baseMs: Math.max(0, retry.backoffBaseMs ?? 25),
        maxMs: Math.max(0, retry.backoffMaxMs ?? 250),
        onStatus: retry.onStatus ?? [500, 502, 503, 504],
      },
      discoveryRefreshMs: positive(options.discovery?.refreshMs, 10_000),
    };
    this.#clock = options.clock ?? nowMs;
    this.#random = options.random ?? Math.random;
    this.#onAttempt = options.onAttempt;
    this.#weights = options.weights ?? {};
    this.#strategy = createStrategy(override.strategy ?? options.strategy ?? 'p2c_ewma', {
      random: this.#random,
    });
    this.#outlier = new OutlierDetector(options.outlier ?? {}, this.#clock);
    this.#budget = new RetryBudget(retry);
    const circuit = override.circuitBreaker ?? options.circuitBreaker;
    this.#breaker = circuit?.enabled ? new CircuitBreaker(circuit, this.#clock) : undefined;

    this.#resolver = options.resolver;
    for (const url of urls) this.addReplica(url);
    this.#ready = this.#discovery ? this.#discover().catch(() => undefined) : Promise.resolve();
    this.#constructed = true;
    // Replicas listed at start come up together: slow start is for ones that join or recover later.
    void this.#ready.then(() => {
      this.#started = true;
      this.#scheduleDiscovery();
      if (this.#o.health.intervalMs > 0) void this.probe().finally(() => this.#scheduleChecks());
    });
  }

  /**
   * What the pool was given: static replica URLs and `dns://` entries, as `addReplica` took them (so a
   * config reload can reconcile against it). The replicas in rotation, with resolved addresses, are in
   * `stats()`.
   */
  get replicas(): readonly string[] {
    return [...this.#sources];
  }

  get strategy(): StrategyName {
    return this.#strategy.name;
  }

  /**
   * Adds a replica: an http(s) URL, or a `dns://name:port/path` entry standing for every address the
   * name resolves to. A replica added after start eases in through slow start. Adding one twice is a no-op.
   */
  addReplica(url: string): void {
    if (this.#sources.includes(url)) return;
    if (isDnsEntry(url)) {
      const entry = parseDnsEntry(url);
      this.#sources.push(url);
      this.#discovery ??= new DnsDiscovery([], this.#resolver);
      this.#discovery.add(entry);
      // in the constructor the first resolution is started once for all entries
      if (this.#constructed) {
        this.#ready = this.#discover().catch(() => undefined);
        if (this.#started && !this.#discoveryTimer) this.#scheduleDiscovery();
      }
      return;
    }
    this.#add(url, this.#weights[url] ?? 1);
    this.#sources.push(url);
  }

  /**
   * Takes a replica (or every replica of a `dns://` entry) out of rotation at once; resolves when the
   * requests already sent to it have finished (the drain).
   */
  async removeReplica(url: string): Promise<void> {
    this.#sources = this.#sources.filter((s) => s !== url);
    if (isDnsEntry(url)) {
      const gone = this.#discovery?.remove(url) ?? [];
      await Promise.all(gone.map((u) => this.#drop(u)));
      return;
    }
    await this.#drop(url);
  }

  async #drop(url: string): Promise<void> {
    const replica = this.#replicas.find((r) => r.url === url);
    if (!replica) return;
    this.#replicas = this.#replicas.filter((r) => r !== replica);
    this.#strategy.forget(replica.id);
    this.#outlier.remove(replica.id);
    const drained = replica.close();
    this.#draining.add(drained);
    try {
      await drained;
    } finally {
      this.#draining.delete(drained);
    }
  }

  stats(): ReplicaStats[] {
    this.#refresh();
    return this.#replicas.map((r) => this.#statsOf(r));
  }

  snapshot(): PoolSnapshot {
    const replicas = this.stats();
    return {
      name: this.name,
      strategy: this.#strategy.name,
      timeoutMs: this.#o.timeoutMs,
      panic: this.#inPanic(),
      ...this.#counters,
      circuit: this.#breaker?.snapshot(),
      outstanding: this.#budget.active,
      replicas,
      discoveryError: this.#discoveryError,
    };
  }

  /**
   * POSTs a GraphQL body to one replica. Idempotent fetches are retried on another replica on resets,
   * timeouts and retryable statuses; any fetch moves on after a refused connection (nothing was sent).
   */
  send(body: string, headers: Record<string, string>, options: SendOptions): Promise<SendResult> {
    // no extra promise per fetch when the breaker is off
    return this.#breaker
      ? this.#sendThrough(this.#breaker, body, headers, options)
      : this.#send(body, headers, options);
  }

  async #sendThrough(
    breaker: CircuitBreaker,
    body: string,
    headers: Record<string, string>,
    options: SendOptions,
  ): Promise<SendResult> {
    if (this.#closed) throw new PoolError('POOL_CLOSED', `pool ${this.name} is closed`);
    const permit = breaker.tryAcquire();
    if (!permit) {
      throw new PoolError(
        'POOL_CIRCUIT_OPEN',
        `${this.name}: circuit open (too many of its recent fetches failed); trial fetches in ${Math.ceil(breaker.openForMs)} ms`,
      );
    }
    try {
      const result = await this.#send(body, headers, options);
      breaker.record(permit, result.status < 500);
      return result;
    } catch (error) {
      // what says something about the subgraph counts; a caller's abort or a local limit does not
      if (error instanceof PoolError && CIRCUIT_FAILURES.has(error.code)) breaker.record(permit, false);
      else breaker.release(permit);
      throw error;
    }
  }

  async #send(body: string, headers: Record<string, string>, options: SendOptions): Promise<SendResult> {
    if (this.#closed) throw new PoolError('POOL_CLOSED', `pool ${this.name} is closed`);
    const traceContext = options.traceContext ?? context.active(); // before any await
    await this.#ready;
    const { signal, idempotent } = options;
    const limitMs = Number.isFinite(options.deadline)
      ? Math.min(this.#o.timeoutMs, (options.deadline as number) - Date.now())
      : this.#o.timeoutMs;
    const deadline = nowMs() + limitMs;
    const { maxAttempts, onStatus } = this.#o.retry;
    this.#counters.requests++;
    this.#budget.requestStarted();
    const tried = new Set<Replica>();
    let last: Outcome | undefined;
    let stop: 'overloaded' | 'none' | 'deadline' | undefined;
    let retries = 0;
    let retrySlot = false;
    let next: 'retry' | 'failover' | undefined;
    // why the previous attempt is being retried (on the attempt span): `status 503`, `reset`, `timeout`…
    let retryReason: string | undefined;
    try {
      for (let attempt = 1; ; attempt++) {
        if (signal?.aborted) throw this.#abortError(signal.reason);
        const remaining = deadline - nowMs();
        if (remaining <= 0) {
          stop = 'deadline';
          break;
        }
        const replica = this.#pick(tried);
        if (replica === 'overloaded' || replica === undefined) {
          stop = replica ?? 'none';
          break;
        }
        tried.add(replica);
        if (next === 'retry') this.#counters.retries++;
        if (next === 'failover') this.#counters.failovers++;
        const budgetMs =
          this.#o.perTryTimeoutMs > 0 ? Math.min(remaining, this.#o.perTryTimeoutMs) : remaining;
        const outcome = await this.#attempt(
          replica,
          body,
          headers,
          budgetMs,
          signal,
          attempt,
          retryReason,
          traceContext,
        );
        if (retrySlot) {
          this.#budget.release();
          retrySlot = false;
        }
        if (outcome.kind === 'aborted') throw this.#abortError(signal?.reason);
        if (outcome.kind === 'response' && !onStatus.includes(outcome.result.status)) return outcome.result;
        last = outcome;
        const failure =
          outcome.kind === 'response' ? { status: outcome.result.status } : { kind: outcome.kind };
        if (!mayRetry(failure, idempotent, onStatus) || attempt >= maxAttempts) break;
        retryReason = outcome.kind === 'response' ? `status ${outcome.result.status}` : outcome.kind;
        if (outcome.kind === 'connect') {
          // Nothing reached the replica, so this adds no load anywhere: move on at once, outside the budget.
          next = 'failover';
          continue;
        }
        const wait = backoffMs(
          ++retries,
          { baseMs: this.#o.retry.baseMs, maxMs: this.#o.retry.maxMs },
          this.#random,
        );
        // never retry past the deadline: the answer would come too late to be used (T-F3)
        if (nowMs() + wait >= deadline) break;
        if (wait > 0) await sleep(wait, undefined, { signal }).catch(() => undefined);
        // The budget counts retries in flight upstream (Envoy's active retries), so the slot is taken
        // after the backoff: a burst of fast failures waiting out their jitter does not exhaust it.
        if (!this.#budget.tryAcquire()) {
          this.#counters.retriesDenied++;
          break;
        }
        retrySlot = true;
        next = 'retry';
      }
    } finally {
      if (retrySlot) this.#budget.release();
      this.#budget.requestFinished();
    }
    this.#counters.failed++;
    if (last?.kind === 'response') return last.result;
    throw this.#failureError(last, stop, limitMs);
  }

  /**
   * One round of active checks on every replica; updates health, ends ejections of replicas that pass,
   * and starts slow start for those that come back. Concurrent calls share one round.
   */
  async probe(timeoutMs: number = this.#o.health.timeoutMs): Promise<ReplicaStats[]> {
    await this.#ready;
    if (this.#closed) return this.stats();
    this.#probing ??= Promise.all(
      this.#replicas.map(async (replica) => {
        const { result, detail } = await replica.check(this.#o.health.path, timeoutMs);
        if (this.#replicas.includes(replica)) this.#onCheck(replica, result, detail);
      }),
    )
      .then(() => undefined)
      .finally(() => {
        this.#probing = undefined;
      });
    await this.#probing;
    return this.stats();
  }

  /** Stops checks and discovery, refuses new fetches, and closes every connection once in-flight requests end. */
  close(): Promise<void> {
    if (!this.#closing) {
      this.#closed = true;
      clearTimeout(this.#healthTimer);
      clearTimeout(this.#discoveryTimer);
      this.#closing = Promise.all([...this.#replicas.map((r) => r.close()), ...this.#draining]).then(
        () => undefined,
      );
    }
    return this.#closing;
  }

  #add(url: string, weight: number): void {
    if (this.#replicas.some((r) => r.url === url)) return;
    const replica = new Replica(url, {
      weight: weight > 0 ? weight : 1,
      connections: this.#o.connections,
      keepAliveTimeoutMs: this.#o.keepAliveTimeoutMs,
      backstopTimeoutMs: this.#o.timeoutMs + 1_000,
      ewmaDecayMs: this.#o.ewmaDecayMs,
      health: this.#o.health,
      clock: this.#clock,
    });
    this.#outlier.add(replica.id);
    this.#replicas.push(replica);
    if (this.#started) this.#beginSlowStart(replica);
  }

  #isAvailable(r: Replica): boolean {
    return r.health.status !== 'unhealthy' && !this.#outlier.isEjected(r.id);
  }

  /**
   * A replica back from an ejection or from failing checks: its latency history is stale (while out it
   * only decayed towards 0, which would make it look like the fastest replica), so it starts over as
   * Finagle treats a re-added node, with one probe request at a time until its first answer is measured.
   */
  #recovered(replica: Replica): void {
    replica.ewma.reset();
    this.#beginSlowStart(replica);
  }

  /**
   * Slow start, with ALB's rule: only when at least one other available replica is past its own slow
   * start. Otherwise (every replica coming back at once) there is nobody to take the rest of the traffic.
   */
  #beginSlowStart(replica: Replica): void {
    if (this.#o.slowStart.windowMs <= 0 || replica.slowStartSince !== undefined) return;
    const steady = this.#replicas.some(
      (r) => r !== replica && this.#isAvailable(r) && r.slowStartSince === undefined,
    );
    if (steady) replica.slowStartSince = this.#clock();
  }

  /** Ends elapsed ejections and slow starts, and recomputes effective weights. */
  #refresh(): void {
    for (const id of this.#outlier.sweep()) {
      const r = this.#replicas.find((x) => x.id === id);
      if (r) this.#recovered(r);
    }
    const now = this.#clock();
    for (const r of this.#replicas) {
      let factor = 1;
      if (r.slowStartSince !== undefined) {
        factor = slowStartFactor(now - r.slowStartSince, this.#o.slowStart);
        if (factor >= 1) r.slowStartSince = undefined;
      }
      r.weight = r.configuredWeight * factor;
    }
  }

  /**
   * Envoy's panic mode: with too few replicas left, the health data is more likely wrong than the
   * replicas all broken, and spreading over every replica beats overloading the few that remain.
   */
  #inPanic(): boolean {
    const all = this.#replicas.length;
    const available = this.#replicas.filter((r) => this.#isAvailable(r)).length;
    return all > 0 && available * 100 < this.#o.panicThresholdPercent * all;
  }

  #pick(tried: ReadonlySet<Replica>): Replica | 'overloaded' | undefined {
    this.#refresh();
    const all = this.#replicas;
    const panic = this.#inPanic();
    const untried = (panic ? all : all.filter((r) => this.#isAvailable(r))).filter((r) => !tried.has(r));
    if (!untried.length) return undefined;
    const roomy = untried.filter((r) => r.outstanding < this.#o.maxConcurrent);
    if (!roomy.length) return 'overloaded';
    return this.#strategy.pick(roomy);
  }

  async #attempt(
    replica: Replica,
    body: string,
    headers: Record<string, string>,
    budgetMs: number,
    signal: AbortSignal | undefined,
    attempt: number,
    retryReason: string | undefined,
    traceContext: Context,
  ): Promise<Outcome> {
    // The attempt span (a client span: one per replica tried) when the fetch records; either way the
    // outgoing request carries the trace context, so the replica's server span is its child, and an
    // unsampled request stays unsampled downstream. Nothing is injected when tracing is off.
    const parent = traceContext;
    const span = trace.getSpan(parent)?.isRecording()
      ? tracer.startSpan(
          'gateway.pool.attempt',
          {
            kind: SpanKind.CLIENT,
            attributes: {
              'gateway.subgraph': this.name,
              'gateway.pool.replica': replica.url,
              'gateway.pool.strategy': this.#strategy.name,
              'gateway.pool.attempt': attempt,
              ...(retryReason ? { 'gateway.pool.retry_reason': retryReason } : {}),
              'http.request.method': 'POST',
              'url.full': replica.url,
              ...(attempt > 1 ? { 'http.request.resend_count': attempt - 1 } : {}),
            },
          },
          parent,
        )
      : undefined;
    let timedOut = false;
    const sent: Record<string, string> = this.#o.deadlineHeader
      ? { ...headers, [this.#o.deadlineHeader]: String(Math.max(1, Math.floor(budgetMs))) }
      : { ...headers };
    propagation.inject(span ? trace.setSpan(parent, span) : parent, sent);
    replica.requests++;
    replica.outstanding++;
    const t0 = nowMs();
    try {
      const res = await post(replica.dispatcher, {
        path: replica.path,
        headers: sent,
        body,
        timeoutMs: budgetMs,
        timeoutError: () => {
          timedOut = true;
          return new PoolError('POOL_TIMEOUT', `attempt timed out after ${Math.round(budgetMs)} ms`);
        },
        signal,
      });
      const text = res.body;
      const rtt = nowMs() - t0;
      replica.latency.record(rtt);
      replica.answered = true;
      if (res.statusCode < 500) replica.ewma.observe(rtt);
      if (res.statusCode >= 500) {
        replica.errors++;
        replica.lastError = `answered ${res.statusCode}`;
        this.#failed(replica, rtt);
      } else {
        this.#outlier.success(replica.id);
      }
      this.#emit(replica, attempt, rtt, res.statusCode >= 500 ? 'status' : 'ok', res.statusCode);
      if (span) {
        span.setAttribute('http.response.status_code', res.statusCode);
        if (res.statusCode >= 500)
          span.setStatus({ code: SpanStatusCode.ERROR, message: `answered ${res.statusCode}` });
      }
      return {
        kind: 'response',
        result: {
          status: res.statusCode,
          contentType: res.contentType,
          body: text,
          replica: replica.url,
        },
      };
    } catch (error) {
      const rtt = nowMs() - t0;
      const kind: FailureKind = timedOut ? 'timeout' : signal?.aborted ? 'aborted' : classifyError(error);
      if (kind !== 'aborted') {
        replica.errors++;
        replica.lastError = error instanceof Error ? error.message : String(error);
        // a refused connection measured no round trip
        if (kind !== 'connect') replica.latency.record(rtt);
        this.#failed(replica, kind === 'connect' ? 0 : rtt);
      }
      this.#emit(replica, attempt, rtt, kind);
      if (span) {
        span.setAttribute('error.type', kind);
        failSpan(span, error);
      }
      return { kind, error, replica: replica.url, afterMs: rtt };
    } finally {
      span?.end();
      replica.outstanding--;
    }
  }

  /**
   * A failed attempt is recorded as at least the replica's current cost: a failure never makes a replica
   * look faster. Finagle records a failure's plain round trip, but then a replica that fails fast (500s,
   * refused connections) looks like the fastest one and draws more traffic until it is ejected. Raising
   * the cost instead would starve it of the traffic that lets outlier detection eject it.
   */
  #failed(replica: Replica, rttMs: number): void {
    replica.ewma.observe(Math.max(rttMs, replica.ewma.cost));
    if (this.#outlier.failure(replica.id)) {
      this.#counters.ejections++;
      replica.slowStartSince = undefined;
    }
  }

  #emit(
    replica: Replica,
    attempt: number,
    durationMs: number,
    outcome: AttemptEvent['outcome'],
    status?: number,
  ): void {
    if (!this.#onAttempt) return;
    try {
      this.#onAttempt({
        pool: this.name,
        replica: replica.url,
        attempt,
        durationMs,
        outcome,
        ...(status === undefined ? {} : { status }),
      });
    } catch {
      // a metrics hook must not break traffic
    }
  }

  #onCheck(replica: Replica, result: CheckResult, detail: string): void {
    const before = replica.health.status;
    const changed = replica.health.record(result);
    if (result === 'pass') {
      replica.answered = true;
    } else {
      replica.lastError = detail;
    }
    if (changed === 'healthy' && before === 'unhealthy') this.#recovered(replica);
    if (
      result === 'pass' &&
      replica.health.status === 'healthy' &&
      this.#o.unejectOnActiveCheck &&
      this.#outlier.uneject(replica.id)
    ) {
      this.#recovered(replica);
    }
  }

  #scheduleChecks(): void {
    if (this.#closed || this.#o.health.intervalMs <= 0) return;
    // ±10% jitter keeps the gateways of a fleet from checking a replica in lockstep
    const delay = this.#o.health.intervalMs * (0.9 + 0.2 * Math.random());
    this.#healthTimer = setTimeout(() => {
      void this.probe().finally(() => this.#scheduleChecks());
    }, delay);
    this.#healthTimer.unref();
  }

  async #discover(): Promise<void> {
    if (!this.#discovery) return;
    const change = await this.#discovery.refresh();
    for (const { url, entry } of change.added)
      this.#add(url, this.#weights[entry] ?? this.#weights[url] ?? 1);
    for (const url of change.removed) void this.#drop(url);
    const first = change.errors[0];
    this.#discoveryError = first
      ? `${first.entry}: ${first.error instanceof Error ? first.error.message : String(first.error)}`
      : null;
  }

  #scheduleDiscovery(): void {
    if (this.#closed || !this.#discovery) return;
    this.#discoveryTimer = setTimeout(() => {
      void this.#discover()
        .catch(() => undefined)
        .finally(() => this.#scheduleDiscovery());
    }, this.#o.discoveryRefreshMs);
    this.#discoveryTimer.unref();
  }

  #statsOf(r: Replica): ReplicaStats {
    const outlier = this.#outlier.info(r.id);
    const ejected = this.#outlier.isEjected(r.id);
    const state: ReplicaState =
      r.health.status === 'unhealthy'
        ? 'unhealthy'
        : ejected
          ? 'ejected'
          : r.slowStartSince !== undefined
            ? 'slow_start'
            : 'healthy';
    const round = (n: number | null) => (n === null ? null : Math.round(n * 100) / 100);
    return {
      url: r.url,
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

  #abortError(reason: unknown): PoolError {
    const timeout =
      reason instanceof Error &&
      (reason.name === 'TimeoutError' || (reason as { code?: unknown }).code === 'POOL_TIMEOUT');
    return timeout
      ? new PoolError('POOL_TIMEOUT', `${this.name}: the request's deadline passed`, { cause: reason })
      : new PoolError('POOL_ABORTED', `${this.name}: the request was aborted`, { cause: reason });
  }

  #failureError(
    last: Outcome | undefined,
    stop: 'overloaded' | 'none' | 'deadline' | undefined,
    limitMs: number,
  ): PoolError {
    if (!last || last.kind === 'response') {
      if (stop === 'overloaded') {
        this.#counters.overloaded++;
        return new PoolError(
          'POOL_OVERLOADED',
          `every replica of ${this.name} is at its limit of ${this.#o.maxConcurrent} requests`,
        );
      }
      if (stop === 'deadline')
        return new PoolError(
          'POOL_TIMEOUT',
          `${this.name}: no time left for the fetch (${Math.round(limitMs)} ms)`,
        );
      const why = this.#discoveryError ? ` (${this.#discoveryError})` : '';
      return new PoolError('POOL_NO_HEALTHY_REPLICA', `no available replica of ${this.name}${why}`);
    }
    const message = last.error instanceof Error ? last.error.message : String(last.error);
    const options = { replica: last.replica, cause: last.error };
    if (last.kind === 'timeout' || stop === 'deadline') {
      return new PoolError(
        'POOL_TIMEOUT',
        `${this.name} did not answer within ${Math.round(limitMs)} ms`,
        options,
      );
    }
    if (last.kind === 'connect') {
      return new PoolError(
        'POOL_NO_HEALTHY_REPLICA',
        `no replica of ${this.name} could be reached: ${message}`,
        options,
      );
    }
    return new PoolError('POOL_UPSTREAM_ERROR', `${this.name} request failed: ${message}`, options);
  }
}
