import { setTimeout as sleep } from 'node:timers/promises';
import { type Context, context } from '@opentelemetry/api';
import { attemptTimeoutMs, HedgeBudget, hedgeDelayMs, SubgraphLatency } from './adaptive.ts';
import {
  type AttemptContext,
  type AttemptRequest,
  attempt,
  type Outcome,
  type SendResult,
  Superseded,
} from './attempt.ts';
import { CircuitBreaker, type CircuitSnapshot } from './circuit-breaker.ts';
import { PoolError, type PoolErrorCode } from './errors.ts';
import { abortError, failureError, type StopReason } from './failure.ts';
import type { ResolvedPoolOptions } from './options.ts';
import type { Replica } from './replica.ts';
import type { ReplicaSet } from './replica-set.ts';
import { backoffMs, mayRetry, RetryBudget } from './retry.ts';
import type { PoolCounters } from './snapshot.ts';
import type { StrategyName } from './strategies/index.ts';
import {
  defaultSubset,
  type PoolRoute,
  type RouteOutcome,
  type RoutingCount,
  type Subset,
  selectedSubset,
  subsetText,
} from './subset.ts';

export interface SendOptions {
  /** False for a mutation: it moves to another replica only when the connection failed before sending. */
  idempotent: boolean;
  /** Aborts the fetch (the incoming request went away). */
  signal?: AbortSignal | undefined;
  /** Deadline of the incoming request, in epoch ms (`Date.now()`); the fetch gets at most what is left. */
  deadline?: number | undefined;
  /**
   * The trace context the attempts belong to (the fetch span's). Passed rather than read from the active
   * context: the gateway propagates trace context explicitly, with no async-context store, so the active
   * context after an await is not the request's.
   * @default the active context
   */
  traceContext?: Context | undefined;
  /**
   * The replica subset a routing rule chose for this fetch (subset.ts); the same retry rules apply
   * inside it, and moving to the default set happens only where no attempt was sent.
   * @default every replica of the pool
   */
  route?: PoolRoute | undefined;
}

/** Fetch failures that count against the circuit: the subgraph timed out, refused, broke or answered 5xx. */
const CIRCUIT_FAILURES: ReadonlySet<PoolErrorCode> = new Set<PoolErrorCode>([
  'POOL_TIMEOUT',
  'POOL_NO_HEALTHY_REPLICA',
  'POOL_UPSTREAM_ERROR',
  'POOL_BAD_RESPONSE',
]);

const nowMs = () => performance.now();

/**
 * One pool's fetches: the circuit breaker in front, then attempts on replicas the set picks, with retries
 * of idempotent fetches within the retry budget and the fetch's deadline. Counts into the pool's counters.
 */
export class SendLoop {
  readonly #name: string;
  readonly #o: ResolvedPoolOptions;
  readonly #set: ReplicaSet;
  readonly #counters: PoolCounters;
  readonly #budget: RetryBudget;
  readonly #breaker: CircuitBreaker | undefined;
  readonly #attempt: AttemptContext;
  readonly #latency = new SubgraphLatency();
  readonly #hedges: HedgeBudget;
  readonly #routing = new Map<string, RoutingCount>();
  #closed = false;

  constructor(
    name: string,
    o: ResolvedPoolOptions,
    set: ReplicaSet,
    strategy: StrategyName,
    counters: PoolCounters,
  ) {
    this.#name = name;
    this.#o = o;
    this.#set = set;
    this.#counters = counters;
    this.#budget = new RetryBudget(o.retryBudget);
    this.#breaker = o.circuitBreaker ? new CircuitBreaker(o.circuitBreaker, o.clock) : undefined;
    this.#hedges = new HedgeBudget(o.hedging, o.clock);
    this.#attempt = {
      pool: name,
      strategy,
      deadlineHeader: o.deadlineHeader,
      set,
      latency: this.#latency,
      onAttempt: o.onAttempt,
    };
  }

  /** The adaptive attempt timeout and hedge delay of a query now; null while off or still learning. */
  adaptive(): { attemptTimeoutMs: number | null; hedgeDelayMs: number | null } {
    const t = attemptTimeoutMs(this.#o.attemptTimeout, this.#latency);
    const h = hedgeDelayMs(this.#o.hedging, this.#latency);
    return {
      attemptTimeoutMs: t === undefined ? null : Math.round(t),
      hedgeDelayMs: h === undefined ? null : Math.round(h),
    };
  }

  /** Fetches in flight. */
  get inFlight(): number {
    return this.#budget.active;
  }

  /** Routed fetches by rule and outcome. */
  routing(): RoutingCount[] {
    return [...this.#routing.values()].map((c) => ({ ...c }));
  }

  circuit(): CircuitSnapshot | undefined {
    return this.#breaker?.snapshot();
  }

  /** Refuses every fetch from now on. */
  close(): void {
    this.#closed = true;
  }

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
    if (this.#closed) throw new PoolError('POOL_CLOSED', `pool ${this.#name} is closed`);
    const permit = breaker.tryAcquire();
    if (!permit) {
      throw new PoolError(
        'POOL_CIRCUIT_OPEN',
        `${this.#name}: circuit open (too many of its recent fetches failed); trial fetches in ${Math.ceil(breaker.openForMs)} ms`,
      );
    }
    try {
      const result = await this.#send(body, headers, options);
      breaker.record(permit, result.status < 500);
      return result;
    } catch (error) {
      // what says something about the subgraph counts; a caller's abort, a local limit or a routed
      // subset with nothing up (`fallback: fail`: the rest of the subgraph may be fine) does not
      if (error instanceof PoolError && CIRCUIT_FAILURES.has(error.code) && error.routed !== 'failed')
        breaker.record(permit, false);
      else breaker.release(permit);
      throw error;
    }
  }

  async #send(body: string, headers: Record<string, string>, options: SendOptions): Promise<SendResult> {
    if (this.#closed) throw new PoolError('POOL_CLOSED', `pool ${this.#name} is closed`);
    const traceContext = options.traceContext ?? context.active(); // before any await
    await this.#set.ready;
    const { signal, idempotent } = options;
    const limitMs = Number.isFinite(options.deadline)
      ? Math.min(this.#o.timeoutMs, (options.deadline as number) - Date.now())
      : this.#o.timeoutMs;
    const deadline = nowMs() + limitMs;
    const { maxAttempts, onStatus } = this.#o.retry;
    const { route } = options;
    let subset: Subset | undefined;
    let routed: RouteOutcome | undefined;
    if (route?.select) {
      subset = selectedSubset(route.select);
      routed = 'selected';
    } else if (route) {
      subset = defaultSubset(route, this.#set.replicas);
    }
    this.#counters.requests++;
    this.#budget.requestStarted();
    if (idempotent) this.#hedges.fetchStarted();
    const tried = new Set<Replica>();
    let last: Outcome | undefined;
    let stop: StopReason | undefined;
    let retries = 0;
    let retrySlot = false;
    let next: 'retry' | 'failover' | undefined;
    // why the previous attempt is being retried (on the attempt span): `status 503`, `reset`, `timeout`…
    let retryReason: string | undefined;
    try {
      for (let n = 1; ; n++) {
        if (signal?.aborted) throw abortError(this.#name, signal.reason);
        const remaining = deadline - nowMs();
        if (remaining <= 0) {
          stop = 'deadline';
          break;
        }
        let replica = this.#set.pick(tried, subset);
        if ((replica === 'overloaded' || replica === undefined) && routed === 'selected') {
          // The subset has nothing (left) to try: nothing more was sent to it, so moving on is safe for
          // a mutation too.
          if (route!.fallback === 'default') {
            routed = 'fallback';
            subset = defaultSubset(route!, this.#set.replicas);
            replica = this.#set.pick(tried, subset);
          } else if (!last) {
            routed = 'failed';
          }
        }
        if (replica === 'overloaded' || replica === undefined) {
          stop = replica ?? 'none';
          break;
        }
        tried.add(replica);
        if (next === 'retry') this.#counters.retries++;
        if (next === 'failover') this.#counters.failovers++;
        const limit = this.#attemptLimit(n, remaining, idempotent, tried, subset);
        const request: AttemptRequest = {
          body,
          headers,
          budgetMs: limit.budgetMs,
          cutIfSilentUpToMs: limit.upToMs,
          signal,
          attempt: n,
          retryReason,
          traceContext,
        };
        // Hedge only a query's first attempt: a retry is already a second try elsewhere.
        const delay = idempotent && n === 1 ? hedgeDelayMs(this.#o.hedging, this.#latency) : undefined;
        let outcome: Outcome;
        if (delay !== undefined && delay < limit.budgetMs) {
          const raced = await this.#race(replica, request, limit.adaptive, delay, {
            tried,
            subset,
            deadline,
          });
          outcome = raced.outcome;
          n += raced.attempts - 1;
        } else {
          outcome = await this.#run(replica, request, limit.adaptive);
        }
        if (retrySlot) {
          this.#budget.release();
          retrySlot = false;
        }
        if (outcome.kind === 'aborted') throw abortError(this.#name, signal?.reason);
        if (outcome.kind === 'response' && !onStatus.includes(outcome.result.status))
          return routed ? { ...outcome.result, routed } : outcome.result;
        last = outcome;
        const failure =
          outcome.kind === 'response' ? { status: outcome.result.status } : { kind: outcome.kind };
        if (!mayRetry(failure, idempotent, onStatus) || n >= maxAttempts) break;
        retryReason = outcome.kind === 'response' ? `status ${outcome.result.status}` : outcome.kind;
        if (outcome.kind === 'connect') {
          // Nothing reached the replica, so this adds no load anywhere: move on at once, outside the budget.
          next = 'failover';
          continue;
        }
        const wait = backoffMs(
          ++retries,
          { baseMs: this.#o.retry.baseMs, maxMs: this.#o.retry.maxMs },
          this.#o.random,
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
      if (routed) this.#count(route!.rule ?? '-', routed);
    }
    this.#counters.failed++;
    if (last?.kind === 'response') return routed ? { ...last.result, routed } : last.result;
    if (stop === 'overloaded' && !last) this.#counters.overloaded++;
    const error = failureError(
      {
        name: this.#name,
        maxConcurrent: this.#o.maxConcurrent,
        discoveryError: this.#set.discoveryError,
        subset: routed === 'failed' ? subsetText(route?.select) : undefined,
      },
      last,
      stop,
      limitMs,
    );
    error.routed = routed;
    throw error;
  }

  /**
   * The time one attempt may take: what is left of the fetch, `perTryTimeoutMs` when set, and for a
   * query the adaptive timeout, but only where something can take over once it cuts: not on the last
   * attempt, nor with no other replica to try or no room in the retry budget (the attempt then gets the
   * fetch's whole remaining time, so a subgraph slow everywhere still answers). Never for a mutation:
   * one cut after it was sent leaves its outcome unknown and cannot be retried, so it keeps the fetch's
   * deadline. Leave this intact.
   */
  #attemptLimit(
    n: number,
    remaining: number,
    idempotent: boolean,
    tried: ReadonlySet<Replica>,
    subset: Subset | undefined,
  ): { budgetMs: number; adaptive: boolean; upToMs?: number } {
    const fixed = this.#o.perTryTimeoutMs > 0 ? Math.min(remaining, this.#o.perTryTimeoutMs) : remaining;
    if (
      !idempotent ||
      n >= this.#o.retry.maxAttempts ||
      this.#budget.retries >= this.#budget.limit ||
      !this.#set.hasUntried(tried, subset)
    )
      return { budgetMs: fixed, adaptive: false };
    const adaptive = attemptTimeoutMs(this.#o.attemptTimeout, this.#latency);
    return adaptive !== undefined && adaptive < fixed
      ? { budgetMs: adaptive, adaptive: true, upToMs: fixed }
      : { budgetMs: fixed, adaptive: false };
  }

  /** One attempt, counting a cut by the adaptive timeout. */
  async #run(replica: Replica, request: AttemptRequest, adaptive: boolean): Promise<Outcome> {
    const outcome = await attempt(this.#attempt, replica, request);
    if (adaptive && outcome.kind === 'timeout') this.#counters.attemptTimeouts++;
    return outcome;
  }

  /**
   * A query's first attempt with a hedge: after `delayMs` without an answer, a second attempt goes to
   * another replica if the hedge budget allows; the first good answer wins and the other attempt is
   * cancelled. When both attempts fail, the later failure is returned and the usual retry rules go on.
   */
  async #race(
    primary: Replica,
    request: AttemptRequest,
    adaptive: boolean,
    delayMs: number,
    at: { tried: Set<Replica>; subset: Subset | undefined; deadline: number },
  ): Promise<{ outcome: Outcome; attempts: number }> {
    const { signal } = request;
    const t0 = nowMs();
    const first = linked(signal);
    const firstRun = this.#run(primary, { ...request, signal: first.signal }, adaptive);
    let timer: NodeJS.Timeout | undefined;
    const fired = new Promise<'hedge'>((resolve) => {
      timer = setTimeout(resolve, delayMs, 'hedge');
    });
    const early = await Promise.race([firstRun, fired]);
    clearTimeout(timer);
    const alone = async () => {
      const outcome = await firstRun;
      first.dispose();
      return { outcome, attempts: 1 };
    };
    if (early !== 'hedge' || signal?.aborted) return alone();
    if (!this.#set.hasUntried(at.tried, at.subset) || !this.#hedges.tryAcquire()) return alone();
    const other = this.#set.pick(at.tried, at.subset);
    if (typeof other !== 'object') return alone();
    at.tried.add(other);
    this.#counters.hedges++;
    const n = request.attempt + 1;
    const limit = this.#attemptLimit(n, at.deadline - nowMs(), true, at.tried, at.subset);
    const second = linked(signal);
    const secondRun = this.#run(
      other,
      { ...request, budgetMs: limit.budgetMs, signal: second.signal, attempt: n, hedge: true },
      limit.adaptive,
    );
    const runs = [
      { run: firstRun, control: first, replica: primary },
      { run: secondRun, control: second, replica: other },
    ];
    void Promise.allSettled([firstRun, secondRun]).then(() => {
      first.dispose();
      second.dispose();
    });
    const { onStatus } = this.#o.retry;
    const tagged = runs.map((r, i) => r.run.then((outcome) => ({ i, outcome })));
    let pending = [0, 1];
    let last: Outcome | undefined;
    while (pending.length) {
      const { i, outcome } = await Promise.race(pending.map((j) => tagged[j]!));
      pending = pending.filter((j) => j !== i);
      last = outcome;
      if (outcome.kind === 'aborted' && signal?.aborted) break;
      if (outcome.kind !== 'response' || onStatus.includes(outcome.result.status)) continue;
      const loser = pending[0];
      if (loser !== undefined) {
        runs[loser]!.control.cancel(new Superseded());
        // What the loser took is a lower bound of its latency: p2c_ewma steers away from a replica
        // that keeps losing (a hung one loses every race). Not a failure for outlier detection: on a
        // CPU-starved gateway healthy replicas lose races too, and ejecting them would shrink the pool.
        if (loser === 0)
          void firstRun.then((o) => {
            if (o.kind === 'aborted') primary.ewma.observe(Math.max(nowMs() - t0, primary.ewma.cost));
          });
      }
      if (i === 1) this.#counters.hedgesWon++;
      break;
    }
    return { outcome: last!, attempts: 2 };
  }

  #count(rule: string, outcome: RouteOutcome): void {
    const key = `${rule}\0${outcome}`;
    const c = this.#routing.get(key);
    if (c) c.count++;
    else this.#routing.set(key, { rule, outcome, count: 1 });
  }
}

/** An abort controller of one attempt that also follows the fetch's signal (the caller going away). */
function linked(signal: AbortSignal | undefined): {
  signal: AbortSignal;
  cancel(reason: Error): void;
  dispose(): void;
} {
  const control = new AbortController();
  const cancel = (reason: Error) => control.abort(reason);
  if (!signal) return { signal: control.signal, cancel, dispose: () => {} };
  const follow = () => control.abort(signal.reason);
  signal.addEventListener('abort', follow, { once: true });
  return { signal: control.signal, cancel, dispose: () => signal.removeEventListener('abort', follow) };
}
