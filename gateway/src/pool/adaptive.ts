/** The adaptive per-attempt timeout of a subgraph's queries: derived from its own recent latency. */
export interface AttemptTimeoutOptions {
  /** Cut a query's attempt that runs past the subgraph's observed latency while its replica answers nothing else, so it retries elsewhere. @default true */
  enabled?: boolean;
  /** Percentile of the subgraph's recent attempts the timeout starts from. @default 99 */
  percentile?: number;
  /** The timeout is that percentile × this. @default 3 */
  factor?: number;
  /** Floor of the timeout (a busy event loop must not read as a hung replica). @default 250 */
  minMs?: number;
  /** Ceiling of the timeout. @default 10000 */
  maxMs?: number;
}

/** Hedged attempts of queries ("The Tail at Scale", Envoy's hedge policy). */
export interface HedgingOptions {
  /** Send a second attempt of a query to another replica when the first is slow. @default false */
  enabled?: boolean;
  /** The hedge goes out after this percentile of the subgraph's recent attempts without an answer. @default 95 */
  delayPercentile?: number;
  /** Floor of that delay. @default 10 */
  minDelayMs?: number;
  /** Hedges sent may be at most this percent of the fetches started in the last `windowMs`. @default 10 */
  maxExtraPercent?: number;
  /** The window of that budget. @default 10000 */
  windowMs?: number;
}

// On by default. A cut falls only on a replica that answered nothing else in the last interval (hung),
// never on one that is answering (busy): under a burst every replica slows at once, and cutting there
// sent retries to replicas already at maxConcurrent and ejected healthy ones (attempt.ts).
export const ATTEMPT_TIMEOUT_DEFAULTS = {
  enabled: true,
  percentile: 99,
  factor: 3,
  minMs: 250,
  maxMs: 10_000,
} as const;

export const HEDGING_DEFAULTS = {
  // off, as Envoy's hedge policy is: hedges add up to maxExtraPercent of a subgraph's traffic
  enabled: false,
  delayPercentile: 95,
  minDelayMs: 10,
  maxExtraPercent: 10,
  windowMs: 10_000,
} as const;

/** Below this many samples a subgraph's percentiles say too little: no adaptive timeout, no hedge. */
export const MIN_SAMPLES = 20;

/**
 * The last `size` attempt durations of one subgraph (every replica), with percentiles read from a sorted
 * copy that is refreshed every `refreshEvery` samples: the send loop asks on every fetch, and sorting the
 * window each time would cost more than the fetch's own bookkeeping.
 */
export class SubgraphLatency {
  readonly #samples: Float64Array;
  readonly #refreshEvery: number;
  #next = 0;
  #filled = 0;
  #count = 0;
  #sorted: Float64Array | undefined;
  #sinceSort = 0;

  constructor(size = 256, refreshEvery = 16) {
    this.#samples = new Float64Array(Math.max(1, size));
    this.#refreshEvery = Math.max(1, refreshEvery);
  }

  record(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    this.#samples[this.#next] = ms;
    this.#next = (this.#next + 1) % this.#samples.length;
    this.#filled = Math.min(this.#filled + 1, this.#samples.length);
    this.#count++;
    this.#sinceSort++;
  }

  /** Samples recorded since start. */
  get count(): number {
    return this.#count;
  }

  /** Nearest-rank percentile (0–100) of the window as of the last refresh; null when empty. */
  percentile(p: number): number | null {
    if (!this.#filled) return null;
    if (!this.#sorted || this.#sinceSort >= this.#refreshEvery) {
      this.#sorted = this.#samples.slice(0, this.#filled).sort();
      this.#sinceSort = 0;
    }
    const sorted = this.#sorted;
    const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
    return sorted[rank]!;
  }
}

const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), Math.max(lo, hi));

/**
 * The timeout of a query's attempt: the subgraph's `percentile` × `factor`, within [minMs, maxMs];
 * undefined (no adaptive timeout) when off or before MIN_SAMPLES attempts were measured. Pure.
 */
export function attemptTimeoutMs(
  o: Required<AttemptTimeoutOptions>,
  latency: SubgraphLatency,
): number | undefined {
  if (!o.enabled || latency.count < MIN_SAMPLES) return undefined;
  const p = latency.percentile(o.percentile);
  return p === null ? undefined : clamp(p * o.factor, o.minMs, o.maxMs);
}

/**
 * How long a query's first attempt runs before a hedge goes out: the subgraph's `delayPercentile`, at
 * least `minDelayMs`; undefined (no hedge) when off or before MIN_SAMPLES attempts were measured. Pure.
 */
export function hedgeDelayMs(o: Required<HedgingOptions>, latency: SubgraphLatency): number | undefined {
  if (!o.enabled || latency.count < MIN_SAMPLES) return undefined;
  const p = latency.percentile(o.delayPercentile);
  return p === null ? undefined : Math.max(p, o.minDelayMs);
}

/**
 * The hedging budget, as Finagle's retry budget counts: hedges sent in the last `windowMs` may be at most
 * `maxExtraPercent` of the fetches started in it, so a subgraph that is slow everywhere is not sent
 * twice the traffic. Ten buckets slide over the window. Pure: time comes from the injected clock.
 */
export class HedgeBudget {
  readonly #percent: number;
  readonly #bucketMs: number;
  readonly #clock: () => number;
  readonly #fetches: number[] = new Array(10).fill(0);
  readonly #hedges: number[] = new Array(10).fill(0);
  #bucket = 0;
  #bucketStart: number;
  #fetchSum = 0;
  #hedgeSum = 0;

  constructor(options: { maxExtraPercent: number; windowMs: number }, clock: () => number) {
    this.#percent = Math.max(0, options.maxExtraPercent);
    this.#bucketMs = Math.max(1, options.windowMs / 10);
    this.#clock = clock;
    this.#bucketStart = clock();
  }

  fetchStarted(): void {
    this.#roll();
    this.#fetches[this.#bucket]!++;
    this.#fetchSum++;
  }

  /** Takes a hedge from the budget when it has one. */
  tryAcquire(): boolean {
    this.#roll();
    if ((this.#hedgeSum + 1) * 100 > this.#fetchSum * this.#percent) return false;
    this.#hedges[this.#bucket]!++;
    this.#hedgeSum++;
    return true;
  }

  #roll(): void {
    const now = this.#clock();
    let steps = Math.floor((now - this.#bucketStart) / this.#bucketMs);
    if (steps <= 0) return;
    this.#bucketStart += steps * this.#bucketMs;
    steps = Math.min(steps, 10);
    for (let i = 0; i < steps; i++) {
      this.#bucket = (this.#bucket + 1) % 10;
      this.#fetchSum -= this.#fetches[this.#bucket]!;
      this.#hedgeSum -= this.#hedges[this.#bucket]!;
      this.#fetches[this.#bucket] = 0;
      this.#hedges[this.#bucket] = 0;
    }
  }
}
