import { performance } from 'node:perf_hooks';
import type { RatePolicy } from './bucket.ts';
import { assertPoints, assertPolicy, refund, take } from './bucket.ts';
import type { RateDecision, RateLimitStore } from './store.ts';
import { assertKey, RateLimitStoreError } from './store.ts';

/** Options of {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Clock in ms. Only differences matter, so the default is monotonic and immune to wall-clock jumps.
   * @default () => performance.now()
   */
  now?: () => number;
  /**
   * How often (at most) a take sweeps out full buckets. Sweeping is driven by takes, not a timer, so an
   * idle store costs nothing and needs no `unref`.
   * @default 10_000
   */
  sweepIntervalMs?: number;
  /**
   * Hard cap on tracked keys. Past it the least recently used key is forgotten (its bucket reads as full
   * again), trading a little over-admission for bounded memory under a flood of distinct keys.
   * @default 100_000
   */
  maxKeys?: number;
}

/** An in-process store; `size` is the number of keys currently tracked (for a gauge). */
export interface MemoryRateLimitStore extends RateLimitStore {
  readonly size: number;
}

/** Creates a per-process store: exact and fast, but every gateway instance has its own budgets. */
export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryRateLimitStore {
  return new MemoryStore(options);
}

class MemoryStore implements MemoryRateLimitStore {
  // Map order is recency order: every write deletes then re-inserts, so the first key is the LRU one.
  #tats = new Map<string, number>();
  #now: () => number;
  #sweepIntervalMs: number;
  #maxKeys: number;
  #lastSweep: number;
  #closed = false;

  constructor(options: MemoryStoreOptions) {
    this.#now = options.now ?? (() => performance.now());
    this.#sweepIntervalMs = options.sweepIntervalMs ?? 10_000;
    this.#maxKeys = options.maxKeys ?? 100_000;
    if (!(this.#sweepIntervalMs >= 0)) throw new RangeError('sweepIntervalMs must be >= 0');
    if (!(Number.isInteger(this.#maxKeys) && this.#maxKeys > 0)) {
      throw new RangeError('maxKeys must be a positive integer');
    }
    this.#lastSweep = this.#now();
  }

  get size(): number {
    return this.#tats.size;
  }

  async take(key: string, cost: number, policy: RatePolicy): Promise<RateDecision> {
    this.#assertOpen();
    assertKey(key);
    const now = this.#now();
    this.#maybeSweep(now);
    // Synchronous read-modify-write: no await in between, so concurrent takes cannot over-admit.
    const result = take(this.#tats.get(key), cost, policy, now);
    if (result.allowed && cost > 0) this.#set(key, result.newTat);
    return {
      allowed: result.allowed,
      remaining: result.remaining,
      retryAfterMs: result.retryAfterMs,
      resetAfterMs: result.resetAfterMs,
      limit: policy.capacity,
      source: 'memory',
    };
  }

  async refund(key: string, amount: number, policy: RatePolicy): Promise<void> {
    this.#assertOpen();
    assertKey(key);
    assertPolicy(policy);
    assertPoints(amount, 'amount');
    const tat = refund(this.#tats.get(key), amount, policy, this.#now());
    if (tat === undefined) this.#tats.delete(key);
    else this.#tats.set(key, tat);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#tats.clear();
  }

  #set(key: string, tat: number): void {
    this.#tats.delete(key);
    if (this.#tats.size >= this.#maxKeys) {
      this.#sweep(this.#now());
      if (this.#tats.size >= this.#maxKeys) {
        const oldest = this.#tats.keys().next();
        if (!oldest.done) this.#tats.delete(oldest.value);
      }
    }
    this.#tats.set(key, tat);
  }

  #maybeSweep(now: number): void {
    if (now - this.#lastSweep >= this.#sweepIntervalMs) this.#sweep(now);
  }

  // A TAT at or before now is a full bucket, the same as no entry, so dropping it changes no decision.
  #sweep(now: number): void {
    this.#lastSweep = now;
    for (const [key, tat] of this.#tats) {
      if (tat <= now) this.#tats.delete(key);
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new RateLimitStoreError('ratelimit memory store is closed');
  }
}
