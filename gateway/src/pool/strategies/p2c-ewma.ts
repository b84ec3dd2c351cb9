import type { Endpoint, Strategy } from './strategy.ts';

/**
 * Finagle's penalty for a replica with requests in flight but no latency history yet (`Long.MaxValue >> 16`):
 * large enough that such a replica gets no second request until its first one comes back.
 */
export const PEAK_EWMA_PENALTY = 2 ** 47;

/**
 * Peak-sensitive EWMA of round-trip time (Finagle `PeakEwma.scala`). A sample above the current cost
 * replaces it at once (so a replica that turns slow is avoided from its first slow answer); otherwise
 * the cost decays towards the sample with weight `exp(-Δt/τ)`. Reading the cost decays it towards 0
 * as an observation of 0 would, as Finagle's `get()` does, so a replica that got no traffic since it
 * was slow is eventually tried again.
 */
export class PeakEwma {
  readonly #decayMs: number;
  readonly #clock: () => number;
  #cost = 0;
  #stamp: number;

  /**
   * @param decayMs τ, the decay time. @default 10000 (Finagle's default decay time)
   * @param clock a monotonic clock in ms. @default performance.now
   */
  constructor(decayMs = 10_000, clock: () => number = () => performance.now()) {
    this.#decayMs = decayMs;
    this.#clock = clock;
    this.#stamp = clock();
  }

  /** Forgets the history: the next pick treats the replica as new (one probe request at a time). */
  reset(): void {
    this.#cost = 0;
    this.#stamp = this.#clock();
  }

  observe(rttMs: number): void {
    const now = this.#clock();
    const w = Math.exp(-Math.max(now - this.#stamp, 0) / this.#decayMs);
    this.#cost = rttMs > this.#cost ? rttMs : this.#cost * w + rttMs * (1 - w);
    this.#stamp = now;
  }

  /** The cost now, in ms; 0 with no history. */
  get cost(): number {
    this.observe(0);
    return this.#cost;
  }
}

/** Finagle's load: `cost × (outstanding + 1)`, or the penalty for an unmeasured replica that is busy. */
export function peakEwmaLoad(cost: number, outstanding: number): number {
  return cost === 0 && outstanding > 0 ? PEAK_EWMA_PENALTY + outstanding : cost * (outstanding + 1);
}

export interface P2cEwmaOptions {
  /** A uniform random number in [0, 1). @default Math.random */
  random?: () => number;
}

/**
 * Power of two choices on peak-EWMA load (Finagle / Linkerd): sample two distinct candidates at random
 * and take the one with the lower load. Load is divided by the effective weight, so weights and slow
 * start apply as in Envoy's least-request balancer. Sampling two (not scanning all) keeps many gateways
 * from herding onto the same momentarily fastest replica.
 */
export class P2cEwma implements Strategy {
  readonly name = 'p2c_ewma' as const;
  readonly #random: () => number;

  constructor(options: P2cEwmaOptions = {}) {
    this.#random = options.random ?? Math.random;
  }

  pick<E extends Endpoint>(candidates: readonly E[]): E | undefined {
    const n = candidates.length;
    if (n <= 1) return candidates[0];
    const i = Math.min(Math.floor(this.#random() * n), n - 1);
    let j = Math.min(Math.floor(this.#random() * (n - 1)), n - 2);
    if (j >= i) j++;
    const a = candidates[i]!;
    const b = candidates[j]!;
    return load(b) < load(a) ? b : a;
  }

  forget(): void {}
}

function load(e: Endpoint): number {
  return peakEwmaLoad(e.cost, e.outstanding) / e.weight;
}
