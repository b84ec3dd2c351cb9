export type PoolErrorCode =
  | 'POOL_NO_HEALTHY_REPLICA'
  | 'POOL_CLOSED'
  | 'POOL_TIMEOUT'
  | 'POOL_UPSTREAM_ERROR'
  | 'POOL_BAD_RESPONSE';

/** An internal pool failure. Callers match on `code`; the data source maps it to SUBGRAPH_UNAVAILABLE. */
export class PoolError extends Error {
  readonly code: PoolErrorCode;
  readonly replica: string | undefined;
  constructor(code: PoolErrorCode, message: string, options: { replica?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.code = code;
    this.replica = options.replica;
  }
}
