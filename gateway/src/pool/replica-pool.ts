import type { SendResult } from './attempt.ts';
import {
  type ReplicaPoolOptions,
  type ReplicaTlsOptions,
  type ResolvedPoolOptions,
  resolvePoolOptions,
} from './options.ts';
import type { ReplicaLabels } from './replica.ts';
import { ReplicaSet, type ReplicaSource } from './replica-set.ts';
import { SendLoop, type SendOptions } from './send-loop.ts';
import { newCounters, type PoolCounters, type PoolSnapshot, type ReplicaStats } from './snapshot.ts';
import { createStrategy, type Strategy, type StrategyName } from './strategies/index.ts';

export type { SendResult } from './attempt.ts';
export type {
  AttemptEvent,
  HealthCheckOptions,
  PoolCircuitBreakerOptions,
  PoolOutlierOptions,
  PoolOverrides,
  ReplicaPoolOptions,
  ReplicaTlsOptions,
} from './options.ts';
export type { ReplicaLabels } from './replica.ts';
export type { ReplicaSource } from './replica-set.ts';
export type { SendOptions } from './send-loop.ts';
export type { PoolSnapshot, ReplicaState, ReplicaStats } from './snapshot.ts';
export type { PoolRoute, RouteOutcome, RoutingCount } from './subset.ts';

/**
 * The replicas of one subgraph. Each fetch picks a replica with the configured strategy among those
 * available (not failing active checks, not ejected, not full), retries idempotent fetches on another
 * replica within a budget and a deadline, and feeds every answer back into outlier detection and the
 * latency estimate. The data source only calls `send`.
 *
 * A facade: the options are resolved by `resolvePoolOptions`, membership, health and the pick live in
 * `ReplicaSet`, and the retry loop with its attempts in `SendLoop`.
 */
export class ReplicaPool {
  readonly name: string;
  readonly #o: ResolvedPoolOptions;
  readonly #strategy: Strategy;
  readonly #counters: PoolCounters = newCounters();
  readonly #set: ReplicaSet;
  readonly #loop: SendLoop;
  #closed = false;
  #closing: Promise<void> | undefined;
  #healthTimer: NodeJS.Timeout | undefined;

  /** `urls`: replica URLs and `dns://` entries, each plain or with its labels (`{ url, labels }`). */
  constructor(name: string, urls: readonly (string | ReplicaSource)[], options: ReplicaPoolOptions = {}) {
    this.name = name;
    this.#o = resolvePoolOptions(name, options);
    this.#strategy = createStrategy(this.#o.strategy, { random: this.#o.random });
    this.#set = new ReplicaSet(urls, this.#o, this.#strategy, this.#counters);
    this.#loop = new SendLoop(name, this.#o, this.#set, this.#strategy.name, this.#counters);
    // Replicas listed at start come up together: slow start is for ones that join or recover later.
    void this.#set.ready.then(() => {
      this.#set.start();
      if (this.#o.health.intervalMs > 0) void this.probe().finally(() => this.#scheduleChecks());
    });
  }

  /**
   * What the pool was given: static replica URLs and `dns://` entries, as `addReplica` took them (so a
   * config reload can reconcile against it). The replicas in rotation, with resolved addresses, are in
   * `stats()`.
   */
  get replicas(): readonly string[] {
    return [...this.#set.sources];
  }

  /** The TLS of connections to https:// replicas, for others that connect to them (subscriptions' WebSockets). */
  get tls(): Readonly<ReplicaTlsOptions> | undefined {
    return this.#o.tls;
  }

  get strategy(): StrategyName {
    return this.#strategy.name;
  }

  /**
   * Adds a replica: an http(s) URL, or a `dns://name:port/path` entry standing for every address the
   * name resolves to, each with `labels` (what routing rules select by). A replica added after start
   * eases in through slow start. Adding one again only sets its labels (a config reload relabelling it).
   */
  addReplica(url: string, labels?: ReplicaLabels): void {
    this.#set.add(url, labels);
  }

  /** The labels a replica URL or `dns://` entry was added with; undefined when the pool has no such entry. */
  labelsOf(url: string): ReplicaLabels | undefined {
    return this.#set.labelsOf(url);
  }

  /**
   * Takes a replica (or every replica of a `dns://` entry) out of rotation at once; resolves when the
   * requests already sent to it have finished (the drain).
   */
  removeReplica(url: string): Promise<void> {
    return this.#set.remove(url);
  }

  stats(): ReplicaStats[] {
    return this.#set.stats();
  }

  snapshot(): PoolSnapshot {
    const replicas = this.stats();
    return {
      name: this.name,
      strategy: this.#strategy.name,
      timeoutMs: this.#o.timeoutMs,
      panic: this.#set.inPanic(),
      ...this.#counters,
      circuit: this.#loop.circuit(),
      adaptive: this.#loop.adaptive(),
      outstanding: this.#loop.inFlight,
      routing: this.#loop.routing(),
      replicas,
      discoveryError: this.#set.discoveryError,
    };
  }

  /**
   * POSTs a GraphQL body to one replica. Idempotent fetches are retried on another replica on resets,
   * timeouts and retryable statuses; any fetch moves on after a refused connection (nothing was sent).
   */
  send(body: string, headers: Record<string, string>, options: SendOptions): Promise<SendResult> {
    return this.#loop.send(body, headers, options);
  }

  /**
   * The URL of a replica to hold a long-lived connection to (a subscription's WebSocket), chosen by the
   * pool's strategy among the replicas in rotation (all of them in panic mode), none of `exclude`;
   * undefined when there is none or the pool is closed.
   */
  pickReplica(exclude: ReadonlySet<string> = new Set()): string | undefined {
    if (this.#closed) return undefined;
    return this.#set.pickForConnection(exclude)?.url;
  }

  /**
   * One round of active checks on every replica; updates health, ends ejections of replicas that pass,
   * and starts slow start for those that come back. Concurrent calls share one round.
   */
  async probe(timeoutMs: number = this.#o.health.timeoutMs): Promise<ReplicaStats[]> {
    await this.#set.ready;
    if (this.#closed) return this.stats();
    await this.#set.checkAll(timeoutMs);
    return this.stats();
  }

  /** Stops checks and discovery, refuses new fetches, and closes every connection once in-flight requests end. */
  close(): Promise<void> {
    if (!this.#closing) {
      this.#closed = true;
      this.#loop.close();
      clearTimeout(this.#healthTimer);
      this.#closing = this.#set.close();
    }
    return this.#closing;
  }

  #scheduleChecks(): void {
    if (this.#closed || this.#o.health.intervalMs <= 0) return;
    // ±10% jitter keeps the gateways of a fleet from checking a replica in lockstep
    const delay = this.#o.health.intervalMs * (0.9 + 0.2 * this.#o.random());
    this.#healthTimer = setTimeout(() => {
      void this.probe().finally(() => this.#scheduleChecks());
    }, delay);
    this.#healthTimer.unref();
  }
}
