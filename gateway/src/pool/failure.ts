import type { Outcome } from './attempt.ts';
import { PoolError } from './errors.ts';

/** Why the send loop stopped before it ran out of attempts, when it did. */
export type StopReason = 'overloaded' | 'none' | 'deadline';

/** The error for a fetch the caller's signal ended: a timeout when the signal was a deadline. */
export function abortError(pool: string, reason: unknown): PoolError {
  const timeout =
    reason instanceof Error &&
    (reason.name === 'TimeoutError' || (reason as { code?: unknown }).code === 'POOL_TIMEOUT');
  return timeout
    ? new PoolError('POOL_TIMEOUT', `${pool}: the request's deadline passed`, { cause: reason })
    : new PoolError('POOL_ABORTED', `${pool}: the request was aborted`, { cause: reason });
}

/**
 * The error for a fetch whose attempts all failed (or that found nothing to attempt), from the last
 * attempt's outcome and why the loop stopped. Pure: the caller counts `overloaded`.
 */
export function failureError(
  pool: {
    name: string;
    maxConcurrent: number;
    discoveryError: string | null;
    /** The routed subset that had no available replica (`fallback: fail`). */
    subset?: string | undefined;
  },
  last: Outcome | undefined,
  stop: StopReason | undefined,
  limitMs: number,
): PoolError {
  const { name } = pool;
  if (!last || last.kind === 'response') {
    if (stop === 'overloaded') {
      return new PoolError(
        'POOL_OVERLOADED',
        `every replica of ${name} is at its limit of ${pool.maxConcurrent} requests`,
      );
    }
    if (stop === 'deadline')
      return new PoolError('POOL_TIMEOUT', `${name}: no time left for the fetch (${Math.round(limitMs)} ms)`);
    const why = pool.discoveryError ? ` (${pool.discoveryError})` : '';
    const labelled = pool.subset ? ` labelled ${pool.subset} (routing.fallback: fail)` : '';
    return new PoolError('POOL_NO_HEALTHY_REPLICA', `no available replica of ${name}${labelled}${why}`);
  }
  const message = last.error instanceof Error ? last.error.message : String(last.error);
  const options = { replica: last.replica, cause: last.error };
  if (last.kind === 'timeout' || stop === 'deadline') {
    return new PoolError('POOL_TIMEOUT', `${name} did not answer within ${Math.round(limitMs)} ms`, options);
  }
  if (last.kind === 'connect') {
    return new PoolError(
      'POOL_NO_HEALTHY_REPLICA',
      `no replica of ${name} could be reached: ${message}`,
      options,
    );
  }
  return new PoolError('POOL_UPSTREAM_ERROR', `${name} request failed: ${message}`, options);
}
