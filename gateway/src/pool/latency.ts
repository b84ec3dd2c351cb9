/** Latency numbers of one replica, for stats. */
export interface LatencySummary {
  /** Peak-EWMA cost now (what p2c_ewma balances on). */
  ewmaMs: number;
  /** Median of the last samples; null before any. */
  p50Ms: number | null;
  /** 99th percentile of the last samples; null before any. */
  p99Ms: number | null;
  /** Samples recorded since the replica joined. */
  count: number;
}

/**
 * The last `size` round trips of a replica in a ring buffer, for p50/p99 "now" in stats and the admin
 * view. Lifetime histograms belong to the metrics exporter (the pool's `onAttempt` hook feeds it).
 */
export class LatencyWindow {
  readonly #samples: Float64Array;
  #next = 0;
  #filled = 0;
  #count = 0;

  constructor(size = 512) {
    this.#samples = new Float64Array(Math.max(1, size));
  }

  record(ms: number): void {
    this.#samples[this.#next] = ms;
    this.#next = (this.#next + 1) % this.#samples.length;
    this.#filled = Math.min(this.#filled + 1, this.#samples.length);
    this.#count++;
  }

  get count(): number {
    return this.#count;
  }

  /** Nearest-rank percentile (0–100) of the samples in the window, or null when empty. */
  percentile(p: number): number | null {
    if (!this.#filled) return null;
    const sorted = this.#samples.slice(0, this.#filled).sort();
    const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
    return sorted[rank]!;
  }
}
