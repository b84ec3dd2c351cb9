/** Settings of a gradient concurrency limit (all times in ms). */
export interface GradientLimitOptions {
  /** Limit before any window is measured. @default 20 */
  initial?: number;
  /** The limit never goes below this. @default 4 */
  min?: number;
  /** The limit never goes above this (`server.maxConcurrentRequests`). @default 1000 */
  max: number;
  /** Share of each new estimate taken into the limit (0–1]. @default 0.2 */
  smoothing?: number;
  /** How far the recent latency may exceed the long-term one before the limit shrinks. @default 1.5 */
  tolerance?: number;
  /** Windows the long-term latency is averaged over (exponential). @default 600 */
  longWindow?: number;
  /** A window closes once this long and holding `windowMinSamples`… @default 100 */
  windowMinMs?: number;
  /** …or at this age whatever it holds (dropped with fewer samples). @default 1000 */
  windowMaxMs?: number;
  /** Samples a window needs to count. @default 10 */
  windowMinSamples?: number;
}

/** The limit's state, for metrics and tests. */
export interface GradientLimitState {
  limit: number;
  /** Average latency of the last counted window (ms); 0 before one. */
  shortRttMs: number;
  /** Long-term average latency (ms); 0 before a window. */
  longRttMs: number;
}

/**
 * A concurrency limit that follows latency: Netflix concurrency-limits' Gradient2 over windows of
 * samples. Each closed window compares its average latency (short) with a long-term exponential average
 * (long): `gradient = clamp(tolerance × long / short, 0.5, 1)`, `estimate = limit × gradient + √limit`
 * (the queue allowance that lets it grow while latency stays flat); a growing estimate is smoothed,
 * `limit += smoothing × (estimate − limit)`, a shrinking one taken at once; bounded by [min, max]. A window whose peak in-flight stayed under half the limit leaves the
 * limit alone: an idle gateway says nothing about its capacity. Pure: the caller passes the clock.
 */
export class GradientLimit {
  readonly #min: number;
  readonly #max: number;
  readonly #smoothing: number;
  readonly #tolerance: number;
  readonly #longFactor: number;
  readonly #windowMinMs: number;
  readonly #windowMaxMs: number;
  readonly #windowMinSamples: number;
  #limit: number;
  #short = 0;
  #long = 0;
  /** Windows averaged plainly before the exponential average takes over (as Netflix's warm-up). */
  #warmup = 0;
  // the open window
  #windowStart: number | undefined;
  #sum = 0;
  #count = 0;
  #maxInflight = 0;

  constructor(options: GradientLimitOptions) {
    this.#max = positive(options.max, 'max');
    this.#min = Math.min(positive(options.min ?? 4, 'min'), this.#max);
    this.#limit = clamp(positive(options.initial ?? 20, 'initial'), this.#min, this.#max);
    this.#smoothing = fraction(options.smoothing ?? 0.2, 'smoothing');
    this.#tolerance = atLeast(options.tolerance ?? 1.5, 1, 'tolerance');
    this.#longFactor = 2 / (positive(options.longWindow ?? 600, 'longWindow') + 1);
    this.#windowMinMs = positive(options.windowMinMs ?? 100, 'windowMinMs');
    this.#windowMaxMs = atLeast(options.windowMaxMs ?? 1_000, this.#windowMinMs, 'windowMaxMs');
    this.#windowMinSamples = positive(options.windowMinSamples ?? 10, 'windowMinSamples');
  }

  /** Requests that may run at once now: the estimate, rounded down, never under 1. */
  get limit(): number {
    return Math.max(1, Math.floor(this.#limit));
  }

  get state(): GradientLimitState {
    return { limit: this.#limit, shortRttMs: this.#short, longRttMs: this.#long };
  }

  /**
   * One finished request: its latency `rttMs`, the requests in flight when it started (itself included),
   * and the time it finished. Closes the window when it is due, and then may move the limit.
   */
  sample(rttMs: number, inflight: number, now: number): void {
    if (!(rttMs >= 0) || !Number.isFinite(rttMs)) return;
    this.#windowStart ??= now;
    this.#sum += rttMs;
    this.#count++;
    if (inflight > this.#maxInflight) this.#maxInflight = inflight;
    const age = now - this.#windowStart;
    const ready = this.#count >= this.#windowMinSamples;
    // a slow trickle of requests still moves the limit: the window waits for its samples, up to its max age
    if (age < this.#windowMaxMs && !(ready && age >= this.#windowMinMs)) return;
    const average = this.#sum / this.#count;
    const peak = this.#maxInflight;
    this.#windowStart = now;
    this.#sum = 0;
    this.#count = 0;
    this.#maxInflight = 0;
    if (ready) this.#update(Math.max(average, 1e-3), peak);
  }

  #update(shortRtt: number, inflight: number): void {
    this.#short = shortRtt;
    if (this.#warmup < 10) {
      this.#warmup++;
      this.#long += (shortRtt - this.#long) / this.#warmup;
    } else {
      this.#long += (shortRtt - this.#long) * this.#longFactor;
    }
    // Latency back to normal after a long overload: the long average would hold the limit down for
    // minutes; pull it towards the present faster than its smoothing would.
    if (this.#long / shortRtt > 2) this.#long *= 0.9;
    if (inflight < this.#limit / 2) return;
    const gradient = clamp((this.#tolerance * this.#long) / shortRtt, 0.5, 1);
    const estimate = this.#limit * gradient + Math.sqrt(this.#limit);
    // Growth is smoothed; a shrink is taken whole (as AIMD's multiplicative decrease): smoothed, a limit
    // far above what the subgraphs can serve sank ~10% a window, and an overload of a few seconds was
    // over before it had (the admitted requests queued behind it all the while).
    const next =
      estimate < this.#limit ? estimate : this.#limit * (1 - this.#smoothing) + estimate * this.#smoothing;
    this.#limit = clamp(next, this.#min, this.#max);
  }
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, n));
}

function positive(n: number, name: string): number {
  if (!(n > 0) || !Number.isFinite(n)) throw new RangeError(`${name} must be a positive number, got ${n}`);
  return n;
}

function atLeast(n: number, lo: number, name: string): number {
  if (!(n >= lo) || !Number.isFinite(n)) throw new RangeError(`${name} must be at least ${lo}, got ${n}`);
  return n;
}

function fraction(n: number, name: string): number {
  if (!(n > 0 && n <= 1)) throw new RangeError(`${name} must be in (0, 1], got ${n}`);
  return n;
}
