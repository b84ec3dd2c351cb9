import type { Endpoint, Strategy } from './strategy.ts';

/**
 * Weighted round robin, the "smooth" variant NGINX uses: every pick adds each candidate's weight to its
 * running credit, takes the candidate with the most credit and charges it the total. Equal weights give
 * plain rotation (a b c a b c); weights 5:1:1 give a a b a c a a, interleaved rather than in bursts.
 * Credits are kept per replica id, so a candidate list that changes between picks (a replica tried,
 * ejected or at capacity) still converges to the weight ratios, and fractional slow-start weights work.
 */
export class RoundRobin implements Strategy {
  readonly name = 'round_robin' as const;
  #credit = new Map<string, number>();

  pick<E extends Endpoint>(candidates: readonly E[]): E | undefined {
    let best: E | undefined;
    let bestCredit = Number.NEGATIVE_INFINITY;
    let total = 0;
    for (const c of candidates) {
      const credit = (this.#credit.get(c.id) ?? 0) + c.weight;
      this.#credit.set(c.id, credit);
      total += c.weight;
      // strict >: ties go to the earlier candidate, which keeps the order stable and testable
      if (credit > bestCredit) {
        best = c;
        bestCredit = credit;
      }
    }
    if (best) this.#credit.set(best.id, bestCredit - total);
    return best;
  }

  forget(id: string): void {
    this.#credit.delete(id);
  }
}
