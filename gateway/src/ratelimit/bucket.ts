// Pure GCRA (generic cell rate algorithm) math on an explicit clock. The stores persist one number per
// key, the theoretical arrival time (TAT); everything else is derived. The Lua scripts in redis-store.ts
// mirror these functions line for line, so change both together (redis-store.test.ts cross-checks them).

/** A cost budget: a bucket of `capacity` points that refills at `restoreRate` points per second. */
export interface RatePolicy {
  /** Burst size in cost points: the most a client can spend at once, and the size of a full bucket. */
  capacity: number;
  /** Points restored per second. */
  restoreRate: number;
}

/** A bucket's whole state: its TAT in ms on the store's clock, or `undefined` for a full (or unknown) bucket. */
export type BucketState = number | undefined;

/** The outcome of {@link take}. */
export interface TakeResult {
  allowed: boolean;
  /** Whole points left after this decision (nothing is spent on a denial). */
  remaining: number;
  /**
   * Whole ms until this same cost would be admitted: 0 when allowed, `Infinity` when the cost is larger than
   * the capacity, because then no amount of waiting helps.
   */
  retryAfterMs: number;
  /** Whole ms until the bucket is full again. */
  resetAfterMs: number;
  /** The TAT to persist. Only an admission changes state; on a denial this equals `max(state, now)`. */
  newTat: number;
}

/**
 * Slack for float noise, e.g. `1000 / 3` summed back up, and for the µs rounding of the TAT stored in
 * Redis. 1 µs of early admission is harmless; a spurious denial of a take that exactly fits is not.
 */
export const TAT_EPSILON_MS = 1e-3;
const POINT_EPSILON = 1e-6;

/** Throws a `RangeError` unless the policy is usable; stores call it so a bad config fails loudly. */
export function assertPolicy(policy: RatePolicy): void {
  if (!isPositiveFinite(policy?.capacity)) {
    throw new RangeError(
      `ratelimit policy capacity must be a positive finite number, got ${policy?.capacity}`,
    );
  }
  if (!isPositiveFinite(policy.restoreRate)) {
    throw new RangeError(
      `ratelimit policy restoreRate must be a positive finite number, got ${policy.restoreRate}`,
    );
  }
}

/** Throws a `RangeError` unless `points` is a finite number ≥ 0 (a cost or a refund). */
export function assertPoints(points: number, what: 'cost' | 'amount'): void {
  if (typeof points !== 'number' || !Number.isFinite(points) || points < 0) {
    throw new RangeError(`ratelimit ${what} must be a finite number >= 0, got ${points}`);
  }
}

/** Milliseconds a full refill takes, i.e. the GCRA burst tolerance τ. */
export function fullRefillMs(policy: RatePolicy): number {
  return (policy.capacity * 1000) / policy.restoreRate;
}

/**
 * Tries to spend `cost` points at time `now` (ms). GCRA: with emission interval T = 1000/rate ms and
 * tolerance τ = T·capacity, the take is admitted iff `max(tat, now) + cost·T − τ ≤ now`.
 */
export function take(state: BucketState, cost: number, policy: RatePolicy, now: number): TakeResult {
  assertPolicy(policy);
  assertPoints(cost, 'cost');
  assertNow(now);
  const interval = 1000 / policy.restoreRate;
  const tolerance = interval * policy.capacity;
  const tat = state === undefined || state < now ? now : state;
  const remainingAt = (t: number) =>
    Math.max(0, Math.floor((tolerance - (t - now)) / interval + POINT_EPSILON));
  const wholeMs = (ms: number) => Math.max(0, Math.ceil(ms - TAT_EPSILON_MS));

  if (cost > policy.capacity) {
    // Never admissible: answer at once instead of letting callers wait (or loop) for ever.
    return {
      allowed: false,
      remaining: remainingAt(tat),
      retryAfterMs: Number.POSITIVE_INFINITY,
      resetAfterMs: wholeMs(tat - now),
      newTat: tat,
    };
  }
  const newTat = tat + cost * interval;
  if (newTat - tolerance > now + TAT_EPSILON_MS) {
    return {
      allowed: false,
      remaining: remainingAt(tat),
      retryAfterMs: Math.max(1, wholeMs(newTat - tolerance - now)),
      resetAfterMs: wholeMs(tat - now),
      newTat: tat,
    };
  }
  return {
    allowed: true,
    remaining: remainingAt(newTat),
    retryAfterMs: 0,
    resetAfterMs: wholeMs(newTat - now),
    newTat,
  };
}

/**
 * Gives `amount` points back (estimated minus actual cost, after execution). A bucket never holds more
 * than its capacity, so the result is clamped at `now`; `undefined` means the bucket is full again.
 */
export function refund(state: BucketState, amount: number, policy: RatePolicy, now: number): BucketState {
  assertPolicy(policy);
  assertPoints(amount, 'amount');
  assertNow(now);
  if (state === undefined) return undefined;
  const tat = state - (amount * 1000) / policy.restoreRate;
  return tat > now ? tat : undefined;
}

function assertNow(now: number): void {
  if (typeof now !== 'number' || !Number.isFinite(now)) {
    throw new RangeError(`ratelimit clock must be a finite number of ms, got ${now}`);
  }
}

function isPositiveFinite(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}
