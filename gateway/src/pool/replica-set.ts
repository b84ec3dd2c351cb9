import { DnsDiscovery, isDnsEntry, parseDnsEntry } from './discovery.ts';
import type { CheckResult } from './health.ts';
import { POOL_DEFAULTS, type ResolvedPoolOptions } from './options.ts';
import { OutlierDetector } from './outlier.ts';
import { Replica, type ReplicaLabels } from './replica.ts';
import { slowStartFactor } from './slow-start.ts';
import { type PoolCounters, type ReplicaStats, replicaStats } from './snapshot.ts';
import type { Strategy } from './strategies/index.ts';
import type { Subset } from './subset.ts';

/** A replica URL or `dns://` entry with its labels. */
export interface ReplicaSource {
  url: string;
  labels: ReplicaLabels;
}

const NO_LABELS: ReplicaLabels = Object.freeze({});

function sameLabels(a: ReplicaLabels, b: ReplicaLabels): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

/**
 * The replicas of one pool and what decides which of them take traffic: membership (static URLs and
 * `dns://` entries, with the drain of removed ones), outlier ejection, active-check results, slow start,
 * panic mode, and the pick. It counts ejections into the pool's counters.
 */
export class ReplicaSet {
  #replicas: Replica[] = [];
  readonly #draining = new Set<Promise<void>>();
  /** What the pool was given, in order: static replica URLs and `dns://` entries. */
  #sources: string[] = [];
  /** Labels per source; a `dns://` entry's apply to every address it resolves to. */
  readonly #labels = new Map<string, ReplicaLabels>();
  readonly #o: ResolvedPoolOptions;
  readonly #strategy: Strategy;
  readonly #outlier: OutlierDetector;
  readonly #counters: PoolCounters;
  #discovery: DnsDiscovery | undefined;
  #discoveryError: string | null = null;
  #discoveryTimer: NodeJS.Timeout | undefined;
  /** Settles when the latest DNS resolution is done; `send` waits for it. */
  #ready: Promise<void>;
  #probing: Promise<void> | undefined;
  #started = false;
  #constructed = false;
  #closed = false;

  constructor(
    urls: readonly (string | ReplicaSource)[],
    o: ResolvedPoolOptions,
    strategy: Strategy,
    counters: PoolCounters,
  ) {
    this.#o = o;
    this.#strategy = strategy;
    this.#counters = counters;
    this.#outlier = new OutlierDetector(o.outlier, o.clock);
    for (const entry of urls) typeof entry === 'string' ? this.add(entry) : this.add(entry.url, entry.labels);
    this.#ready = this.#discovery ? this.#discover().catch(() => undefined) : Promise.resolve();
    this.#constructed = true;
  }

  get ready(): Promise<void> {
    return this.#ready;
  }

  get replicas(): readonly Replica[] {
    return this.#replicas;
  }

  get sources(): readonly string[] {
    return this.#sources;
  }

  get discoveryError(): string | null {
    return this.#discoveryError;
  }

  /** Replicas listed at start come up together: slow start is for ones that join or recover later. */
  start(): void {
    this.#started = true;
    this.#scheduleDiscovery();
  }

  /** Adds a source; a source already there keeps its replicas and takes the new labels. */
  add(url: string, labels: ReplicaLabels = NO_LABELS): void {
    if (this.#sources.includes(url)) {
      if (sameLabels(this.#labels.get(url) ?? NO_LABELS, labels)) return;
      this.#labels.set(url, labels);
      for (const r of this.#replicas) if (r.source === url) r.labels = labels;
      return;
    }
    this.#labels.set(url, labels);
    if (isDnsEntry(url)) {
      const entry = parseDnsEntry(url);
      this.#sources.push(url);
      this.#discovery ??= new DnsDiscovery([], this.#o.resolver);
      this.#discovery.add(entry);
      // in the constructor the first resolution is started once for all entries
      if (this.#constructed) {
        this.#ready = this.#discover().catch(() => undefined);
        if (this.#started && !this.#discoveryTimer) this.#scheduleDiscovery();
      }
      return;
    }
    this.#addReplica(url, this.#o.weights[url] ?? POOL_DEFAULTS.weight, url);
    this.#sources.push(url);
  }

  labelsOf(source: string): ReplicaLabels | undefined {
    return this.#labels.get(source);
  }

  async remove(url: string): Promise<void> {
    this.#sources = this.#sources.filter((s) => s !== url);
    this.#labels.delete(url);
    if (isDnsEntry(url)) {
      const gone = this.#discovery?.remove(url) ?? [];
      await Promise.all(gone.map((u) => this.#drop(u)));
      return;
    }
    await this.#drop(url);
  }

  stats(): ReplicaStats[] {
    this.#refresh();
    return this.#replicas.map((r) => {
      const outlier = this.#outlier.info(r.id);
      return replicaStats(r, outlier, this.#outlier.isEjected(r.id));
    });
  }

  /**
   * Envoy's panic mode: with too few replicas left, the health data is more likely wrong than the
   * replicas all broken, and spreading over every replica beats overloading the few that remain.
   */
  inPanic(replicas: readonly Replica[] = this.#replicas): boolean {
    const all = replicas.length;
    const available = replicas.filter((r) => this.#isAvailable(r)).length;
    return all > 0 && available * 100 < this.#o.panicThresholdPercent * all;
  }

  /**
   * A replica for one attempt, none of `tried`. With `subset`, only among its members, and panic mode
   * (computed over the members) only when `subset.panic`: a routed subset that has nothing available
   * falls back instead of sending to replicas known to be down.
   */
  pick(tried: ReadonlySet<Replica>, subset?: Subset): Replica | 'overloaded' | undefined {
    this.#refresh();
    const all = subset ? this.#replicas.filter(subset.includes) : this.#replicas;
    const panic = (subset?.panic ?? true) && this.inPanic(all);
    const untried = (panic ? all : all.filter((r) => this.#isAvailable(r))).filter((r) => !tried.has(r));
    if (!untried.length) return undefined;
    const roomy = untried.filter((r) => r.outstanding < this.#o.maxConcurrent);
    if (!roomy.length) return 'overloaded';
    return this.#strategy.pick(roomy);
  }

  /**
   * Whether `pick(tried, subset)` would find a replica, without picking (a strategy's pick moves its
   * state): decides whether an attempt may be cut early or hedged, since another replica can take over.
   */
  hasUntried(tried: ReadonlySet<Replica>, subset?: Subset): boolean {
    const all = subset ? this.#replicas.filter(subset.includes) : this.#replicas;
    const panic = (subset?.panic ?? true) && this.inPanic(all);
    return all.some(
      (r) => !tried.has(r) && r.outstanding < this.#o.maxConcurrent && (panic || this.#isAvailable(r)),
    );
  }

  /**
   * A replica for a long-lived connection (a subscription's WebSocket): chosen like a fetch's (strategy,
   * health, ejection, panic mode) but not bounded by maxConcurrent, which counts requests, skipping `exclude`.
   */
  pickForConnection(exclude: ReadonlySet<string>): Replica | undefined {
    this.#refresh();
    const panic = this.inPanic();
    const candidates = (panic ? this.#replicas : this.#replicas.filter((r) => this.#isAvailable(r))).filter(
      (r) => !exclude.has(r.url),
    );
    return candidates.length ? this.#strategy.pick(candidates) : undefined;
  }

  succeeded(replica: Replica): void {
    this.#outlier.success(replica.id);
  }

  /**
   * A failed attempt is recorded as at least the replica's current cost: a failure never makes a replica
   * look faster. Finagle records a failure's plain round trip, but then a replica that fails fast (500s,
   * refused connections) looks like the fastest one and draws more traffic until it is ejected. Raising
   * the cost instead would starve it of the traffic that lets outlier detection eject it.
   */
  failed(replica: Replica, rttMs: number): void {
    replica.ewma.observe(Math.max(rttMs, replica.ewma.cost));
    if (this.#outlier.failure(replica.id)) {
      this.#counters.ejections++;
      replica.slowStartSince = undefined;
    }
  }

  /** One round of active checks on every replica; concurrent calls share one round. */
  checkAll(timeoutMs: number): Promise<void> {
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
    return this.#probing;
  }

  /** Stops discovery and closes every replica, and those still draining, once their requests end. */
  close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#discoveryTimer);
    return Promise.all([...this.#replicas.map((r) => r.close()), ...this.#draining]).then(() => undefined);
  }

  #addReplica(url: string, weight: number, source: string): void {
    if (this.#replicas.some((r) => r.url === url)) return;
    const replica = new Replica(url, {
      weight: weight > 0 ? weight : POOL_DEFAULTS.weight,
      source,
      labels: this.#labels.get(source) ?? NO_LABELS,
      connections: this.#o.connections,
      keepAliveTimeoutMs: this.#o.keepAliveTimeoutMs,
      backstopTimeoutMs: this.#o.timeoutMs + 1_000,
      ewmaDecayMs: this.#o.ewmaDecayMs,
      health: this.#o.health,
      clock: this.#o.clock,
      tls: this.#o.tls,
    });
    this.#outlier.add(replica.id);
    this.#replicas.push(replica);
    if (this.#started) this.#beginSlowStart(replica);
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
    if (steady) replica.slowStartSince = this.#o.clock();
  }

  /** Ends elapsed ejections and slow starts, and recomputes effective weights. */
  #refresh(): void {
    for (const id of this.#outlier.sweep()) {
      const r = this.#replicas.find((x) => x.id === id);
      if (r) this.#recovered(r);
    }
    const now = this.#o.clock();
    for (const r of this.#replicas) {
      let factor = 1;
      if (r.slowStartSince !== undefined) {
        factor = slowStartFactor(now - r.slowStartSince, this.#o.slowStart);
        if (factor >= 1) r.slowStartSince = undefined;
      }
      r.weight = r.configuredWeight * factor;
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

  async #discover(): Promise<void> {
    if (!this.#discovery) return;
    const change = await this.#discovery.refresh();
    for (const { url, entry } of change.added)
      this.#addReplica(url, this.#o.weights[entry] ?? this.#o.weights[url] ?? POOL_DEFAULTS.weight, entry);
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
}
