import type { RatePolicy } from './bucket.ts';

/** One admission decision, whichever store made it. */
export interface RateDecision {
  allowed: boolean;
  /** Whole points left after this decision. */
  remaining: number;
  /** Whole ms until the same cost would be admitted: 0 when allowed, `Infinity` when cost > capacity. */
  retryAfterMs: number;
  /** Whole ms until the bucket is full again. */
  resetAfterMs: number;
  /** The capacity that applied (scaled by `fallbackShare` when `source` is `'fallback'`). */
  limit: number;
  /** Which bucket decided: `'fallback'` means the shared store was unavailable and a local one answered. */
  source: 'memory' | 'redis' | 'fallback';
}

/** Where budgets live. Implementations keep one GCRA state per key and decide atomically per call. */
export interface RateLimitStore {
  /** Spends `cost` points from `key`'s budget if they fit; a denial spends nothing. */
  take(key: string, cost: number, policy: RatePolicy): Promise<RateDecision>;
  /** Gives `amount` points back to `key`'s budget, never beyond its capacity. */
  refund(key: string, amount: number, policy: RatePolicy): Promise<void>;
  /** Releases connections and timers. Calls after `close()` reject. */
  close(): Promise<void>;
}

/** Stable code of {@link RateLimitStoreError}; callers match on it, never on the message. */
export const RATELIMIT_STORE_UNAVAILABLE = 'RATELIMIT_STORE_UNAVAILABLE';

/**
 * The store could not decide: Redis refused, timed out, is reconnecting, or the store is closed.
 * Internal: the plugin maps it to a 503 (fail-closed) or never sees it (fail-open).
 */
export class RateLimitStoreError extends Error {
  readonly code = RATELIMIT_STORE_UNAVAILABLE;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RateLimitStoreError';
  }
}

/** Throws a `TypeError` for an empty or non-string key, which would silently share one bucket. */
export function assertKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) {
    throw new TypeError(`ratelimit key must be a non-empty string, got ${JSON.stringify(key)}`);
  }
}
