import type { RatePolicy } from './bucket.ts';
import { assertPoints, assertPolicy } from './bucket.ts';
import { createMemoryStore } from './memory-store.ts';
import type { RateDecision, RateLimitStore } from './store.ts';
import { assertKey, RateLimitStoreError } from './store.ts';

/** Options of {@link createResilientStore}. */
export interface ResilientStoreOptions {
  /** The shared store (Redis) that normally decides. */
  primary: RateLimitStore;
  /**
   * What happens when the primary fails or times out. `'open'` answers from a local per-instance bucket
   * (Envoy's global rate limit also fails open by default); `'closed'` rejects with
   * `RATELIMIT_STORE_UNAVAILABLE`, which the plugin turns into a 503.
   * @default 'open'
   */
  failureMode?: 'open' | 'closed';
  /**
   * Fraction of each policy (capacity and restore rate) the local fallback bucket enforces, in (0, 1].
   * Set it to 1/N for N gateway instances so the fleet as a whole stays near the shared budget; keep
   * `capacity × fallbackShare` at or above the largest admissible query cost, or such queries are refused.
   * @default 1
   */
  fallbackShare?: number;
  /**
   * Upper bound in ms on one primary call; a backstop in case the primary's own timeout is larger or absent.
   * @default 50
   */
  timeoutMs?: number;
  /**
   * Called with the first error of each failure burst (the burst ends at the next primary success), so the
   * log gets one line per outage instead of one per request. Errors it throws are ignored.
   */
  onError?: (error: RateLimitStoreError) => void;
}

/** Counters for metrics; `degraded` is true from a primary failure until the next primary success. */
export interface ResilientStoreStats {
  /** Decisions answered by the local fallback (failure mode `'open'` only). */
  fallbackDecisions: number;
  /** Failed or timed-out primary calls, takes and refunds. */
  errors: number;
  degraded: boolean;
}

/** A store that survives its primary being down; see {@link ResilientStoreOptions}. */
export interface ResilientRateLimitStore extends RateLimitStore {
  stats(): ResilientStoreStats;
}

/** Wraps a shared store so an outage degrades to local budgets (or clean 503s) instead of hanging requests. */
export function createResilientStore(options: ResilientStoreOptions): ResilientRateLimitStore {
  return new ResilientStore(options);
}

class ResilientStore implements ResilientRateLimitStore {
  #primary: RateLimitStore;
  #fallback = createMemoryStore();
  #failOpen: boolean;
  #share: number;
  #timeoutMs: number;
  #onError: ((error: RateLimitStoreError) => void) | undefined;
  #fallbackDecisions = 0;
  #errors = 0;
  #degraded = false;
  #closed = false;

  constructor(options: ResilientStoreOptions) {
    if (!options?.primary) throw new TypeError('ratelimit resilient store needs a primary store');
    const failureMode = options.failureMode ?? 'open';
    if (failureMode !== 'open' && failureMode !== 'closed') {
      throw new RangeError(`ratelimit failureMode must be 'open' or 'closed', got ${String(failureMode)}`);
    }
    const share = options.fallbackShare ?? 1;
    if (typeof share !== 'number' || !(share > 0 && share <= 1)) {
      throw new RangeError(`ratelimit fallbackShare must be in (0, 1], got ${share}`);
    }
    const timeoutMs = options.timeoutMs ?? 50;
    if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw new RangeError(`ratelimit timeoutMs must be a positive number, got ${timeoutMs}`);
    }
    this.#primary = options.primary;
    this.#failOpen = failureMode === 'open';
    this.#share = share;
    this.#timeoutMs = timeoutMs;
    this.#onError = options.onError;
  }

  stats(): ResilientStoreStats {
    return { fallbackDecisions: this.#fallbackDecisions, errors: this.#errors, degraded: this.#degraded };
  }

  async take(key: string, cost: number, policy: RatePolicy): Promise<RateDecision> {
    // Validate first: a caller's bug must throw, not be mistaken for an outage and answered by the fallback.
    assertKey(key);
    assertPolicy(policy);
    assertPoints(cost, 'cost');
    this.#assertOpen();
    try {
      const decision = await this.#withTimeout('take', this.#primary.take(key, cost, policy));
      this.#degraded = false;
      return decision;
    } catch (err) {
      const error = this.#failed(err);
      if (!this.#failOpen) throw error;
      this.#fallbackDecisions++;
      const decision = await this.#fallback.take(key, cost, this.#scaled(policy));
      return { ...decision, source: 'fallback' };
    }
  }

  async refund(key: string, amount: number, policy: RatePolicy): Promise<void> {
    assertKey(key);
    assertPolicy(policy);
    assertPoints(amount, 'amount');
    this.#assertOpen();
    // While degraded the take most likely came from the fallback, so that is where the points go back.
    if (this.#failOpen && this.#degraded) return this.#fallback.refund(key, amount, this.#scaled(policy));
    try {
      await this.#withTimeout('refund', this.#primary.refund(key, amount, policy));
      this.#degraded = false;
    } catch (err) {
      const error = this.#failed(err);
      if (!this.#failOpen) throw error;
      await this.#fallback.refund(key, amount, this.#scaled(policy));
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([this.#primary.close(), this.#fallback.close()]);
  }

  // Closing is not an outage: no fallback answer, no error count, no onError.
  #assertOpen(): void {
    if (this.#closed) throw new RateLimitStoreError('ratelimit store is closed');
  }

  #scaled(policy: RatePolicy): RatePolicy {
    if (this.#share === 1) return policy;
    return { capacity: policy.capacity * this.#share, restoreRate: policy.restoreRate * this.#share };
  }

  #failed(err: unknown): RateLimitStoreError {
    this.#errors++;
    const message = err instanceof Error ? err.message : String(err);
    const error =
      err instanceof RateLimitStoreError
        ? err
        : new RateLimitStoreError(`ratelimit store failed: ${message}`, { cause: err });
    if (!this.#degraded) {
      this.#degraded = true;
      try {
        this.#onError?.(error);
      } catch {
        // A failing logger must not turn a degraded limiter into failed requests.
      }
    }
    return error;
  }

  async #withTimeout<T>(what: string, promise: Promise<T>): Promise<T> {
    // If the deadline wins, the primary's late rejection must not become an unhandled rejection.
    promise.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new RateLimitStoreError(`ratelimit ${what}: store did not answer within ${this.#timeoutMs} ms`),
          ),
        this.#timeoutMs,
      );
    });
    try {
      return await Promise.race([promise, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }
}
