/** `auth.failureThrottle`: a token bucket of failed authentications per client address. */
export interface FailureThrottleOptions {
  /** Failures an address may have in a burst; 0 turns the throttle off. @default 20 */
  capacity: number;
  /** Failures given back per second. @default 1 */
  refillPerSecond: number;
  /** Addresses remembered at most (least recently failed forgotten first). @default 10000 */
  maxAddresses: number;
  /** Clock in ms (tests). @default performance.now */
  now?: () => number;
}

export interface FailureThrottle {
  /**
   * Seconds until `address` may try a credential again, or 0 when it may now. Read-only: a success
   * costs nothing, so a caller with a good credential is never slowed.
   */
  retryAfter(address: string): number;
  /** Takes one token for a failed authentication from `address`. */
  failed(address: string): void;
  /** Addresses remembered now. */
  readonly size: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * The credential-stuffing throttle: each failure takes a token, tokens come back at `refillPerSecond`
 * up to `capacity`; an address with less than one token is refused before its credential is looked at.
 * Attempts already in flight when the bucket empties still fail and take their token, so the bucket can
 * go into debt (down to -capacity): a burst of concurrent guesses buys a longer wait, not more guesses.
 * Memory is bounded: a Map in least-recently-failed order, the oldest dropped past `maxAddresses`; a
 * bucket that has refilled is dropped on read, as it equals a fresh one.
 */
export function createFailureThrottle(options: FailureThrottleOptions): FailureThrottle {
  const { capacity, refillPerSecond, maxAddresses } = options;
  const now = options.now ?? (() => performance.now());
  const buckets = new Map<string, Bucket>();
  const level = (b: Bucket, t: number) =>
    Math.min(capacity, b.tokens + ((t - b.at) / 1000) * refillPerSecond);
  return {
    retryAfter(address) {
      if (capacity <= 0) return 0;
      const b = buckets.get(address);
      if (!b) return 0;
      const tokens = level(b, now());
      if (tokens >= capacity) {
        buckets.delete(address);
        return 0;
      }
      if (tokens >= 1) return 0;
      return Math.max(1, Math.ceil((1 - tokens) / refillPerSecond));
    },
    failed(address) {
      if (capacity <= 0) return;
      const t = now();
      const b = buckets.get(address);
      const tokens = b ? level(b, t) : capacity;
      buckets.delete(address); // re-inserted last: the Map's order is least recently failed first
      buckets.set(address, { tokens: Math.max(-capacity, tokens - 1), at: t });
      if (buckets.size > maxAddresses) {
        const oldest = buckets.keys().next().value;
        if (oldest !== undefined) buckets.delete(oldest);
      }
    },
    get size() {
      return buckets.size;
    },
  };
}
