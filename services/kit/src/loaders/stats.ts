/** Counters of one loader since the process started, summed over requests (and in-process replicas). */
export interface LoaderStats {
  /** Batch calls, one per loader per tick per request (or per `maxBatchSize` keys). */
  batches: number;
  /** Keys over all batches: `keys / batches` is the mean batch size. */
  keys: number;
  /** The largest batch seen. */
  maxBatchSize: number;
  /** Keys answered by the shared cache. */
  hits: number;
  /** Keys the shared cache did not answer (joined or read from the database); every key when uncached. */
  misses: number;
  /** Misses answered by another request's read in flight instead of a statement of their own. */
  joined: number;
  /** SQL statements sent, counted at the `Queryable` the loader used. */
  statements: number;
  /** Batches that went straight to the database because the cache failed, was slow, or was unsure. */
  bypassed: number;
  /** `invalidate` calls, and how many of them the cache did not take (retried in the background). */
  invalidations: number;
  invalidationFailures: number;
}

/** What a batch reports to `onBatch`, e.g. to become a span once telemetry lands. */
export interface BatchEvent {
  service: string;
  loader: string;
  /** Keys in the batch. */
  size: number;
  hits: number;
  joined: number;
  /** SQL statements this batch sent (0 or 1 for the kit's loaders). */
  statements: number;
  bypassed: boolean;
  durationMs: number;
  /** Set when the batch failed; the loads reject with it. */
  error?: unknown;
}

const registry = new Map<string, LoaderStats>();

/** A snapshot of every loader's counters, by `<service>.<loader>`. Diff two snapshots to measure a request. */
export function loaderStats(): Record<string, LoaderStats> {
  return Object.fromEntries([...registry].map(([name, stats]) => [name, { ...stats }]));
}

/** The live counters of one loader (created at zero). */
export function statsFor(service: string, loader: string): LoaderStats {
  const name = `${service}.${loader}`;
  let stats = registry.get(name);
  if (!stats) {
    stats = {
      batches: 0,
      keys: 0,
      maxBatchSize: 0,
      hits: 0,
      misses: 0,
      joined: 0,
      statements: 0,
      bypassed: 0,
      invalidations: 0,
      invalidationFailures: 0,
    };
    registry.set(name, stats);
  }
  return stats;
}
