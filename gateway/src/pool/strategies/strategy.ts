/** The strategies a pool can balance with (`pool.strategy`). */
export type StrategyName = 'round_robin' | 'least_outstanding' | 'p2c_ewma';

/** What a strategy sees of one replica when picking. Replicas implement it with getters. */
export interface Endpoint {
  /** Stable key: the replica URL. */
  readonly id: string;
  /** Effective weight, > 0: the configured weight times the slow-start factor. */
  readonly weight: number;
  /** Requests in flight on this replica. */
  readonly outstanding: number;
  /** Peak-EWMA round-trip time in ms at pick time; 0 when the replica has no history. */
  readonly cost: number;
}

/**
 * A pure picking rule. The pool filters first (health, ejection, replicas already tried, capacity), so
 * every candidate is eligible; a strategy only orders them.
 */
export interface Strategy {
  readonly name: StrategyName;
  /** One of `candidates`; undefined only when the list is empty. */
  pick<E extends Endpoint>(candidates: readonly E[]): E | undefined;
  /** Drops any state kept for a replica that left the pool. */
  forget(id: string): void;
}
