import type { Endpoint, Strategy } from './strategy.ts';

/**
 * Envoy's least-request weight: `weight / (outstanding + 1) ^ bias`. Bias 0 ignores load (plain weights),
 * bias 1 (the default) is ALB's least outstanding requests when weights are equal.
 * T-L1: weight 2 with 4 active requests → 2 / 5 = 0.4.
 */
export function effectiveWeight(weight: number, outstanding: number, bias = 1): number {
  return weight / (outstanding + 1) ** bias;
}

export interface LeastOutstandingOptions {
  /** Exponent on (outstanding + 1). @default 1 */
  activeRequestBias?: number;
}

/**
 * Least outstanding requests (AWS ALB), weighted as Envoy's least-request balancer: a full scan for the
 * highest effective weight. Replicas are few per subgraph, so the O(n) scan costs less than P2C's
 * sampling error. Ties rotate, so an idle pool is still spread evenly instead of always hitting the first.
 */
export class LeastOutstanding implements Strategy {
  readonly name = 'least_outstanding' as const;
  readonly #bias: number;
  #turn = 0;

  constructor(options: LeastOutstandingOptions = {}) {
    this.#bias = options.activeRequestBias ?? 1;
  }

  pick<E extends Endpoint>(candidates: readonly E[]): E | undefined {
    let best = Number.NEGATIVE_INFINITY;
    const ties: E[] = [];
    for (const c of candidates) {
      const w = effectiveWeight(c.weight, c.outstanding, this.#bias);
      // a relative epsilon, so 0.1 + 0.2 and 0.3 count as the same weight
      if (w > best * (1 + 1e-9) + 1e-12) {
        best = w;
        ties.length = 0;
        ties.push(c);
      } else if (w >= best * (1 - 1e-9) - 1e-12) {
        ties.push(c);
      }
    }
    if (!ties.length) return undefined;
    return ties[this.#turn++ % ties.length];
  }

  forget(): void {}
}
