import type { RouteOutcome } from './subset.ts';

export type PoolErrorCode =
  | 'POOL_NO_HEALTHY_REPLICA'
  | 'POOL_CLOSED'
  | 'POOL_TIMEOUT'
  | 'POOL_UPSTREAM_ERROR'
  | 'POOL_BAD_RESPONSE'
  | 'POOL_OVERLOADED'
  | 'POOL_CIRCUIT_OPEN'
  | 'POOL_ABORTED';

/**
 * An internal pool failure. Callers match on `code`; the data source maps every code to SUBGRAPH_UNAVAILABLE.
 * - POOL_NO_HEALTHY_REPLICA: no replica available, or none could be connected to.
 * - POOL_TIMEOUT: the fetch's deadline (per-subgraph timeout, or what was left of the request's) passed.
 * - POOL_UPSTREAM_ERROR: the connection broke after the request was sent, or the last answer was a 5xx.
 * - POOL_BAD_RESPONSE: an answer that is not a GraphQL response.
 * - POOL_OVERLOADED: every candidate replica is at its concurrency limit (fail fast, no queueing).
 * - POOL_CIRCUIT_OPEN: the subgraph's circuit breaker is open (most of its recent fetches failed).
 * - POOL_ABORTED: the caller's signal aborted the fetch.
 * - POOL_CLOSED: the pool is shut down.
 */
export class PoolError extends Error {
  readonly code: PoolErrorCode;
  readonly replica: string | undefined;
  /** How routing went for a routed fetch (subset.ts), set by the send loop. */
  routed: RouteOutcome | undefined;
  constructor(code: PoolErrorCode, message: string, options: { replica?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'PoolError';
    this.code = code;
    this.replica = options.replica;
  }
}
