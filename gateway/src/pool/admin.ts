import type { PoolSnapshot, ReplicaPool } from './replica-pool.ts';

/** The read-only JSON of `/admin/pool`. */
export interface PoolAdminView {
  generatedAt: string;
  pools: PoolSnapshot[];
}

/**
 * Everything the pools know, as plain JSON for a read-only admin route: per pool the strategy, panic
 * state and counters, per replica its state, load, latency and ejection numbers.
 */
export function poolAdminView(
  pools: ReadonlyMap<string, ReplicaPool> | Iterable<ReplicaPool>,
): PoolAdminView {
  const list =
    pools instanceof Map
      ? [...(pools as ReadonlyMap<string, ReplicaPool>).values()]
      : [...(pools as Iterable<ReplicaPool>)];
  return { generatedAt: new Date().toISOString(), pools: list.map((p) => p.snapshot()) };
}
