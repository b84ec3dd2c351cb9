import type { GraphQLFormattedError } from 'graphql';

export type UpstreamErrorCode = 'SUBGRAPH_UNAVAILABLE' | 'SUBGRAPH_ERROR' | 'SLOW_CONSUMER';

/** Why a subscriber's upstream events ended in error; `code` is stable, the message is for people. */
export class UpstreamError extends Error {
  readonly code: UpstreamErrorCode;
  /** The subgraph's own errors (SUBGRAPH_ERROR: it refused the subscription). */
  readonly errors: readonly GraphQLFormattedError[];

  constructor(code: UpstreamErrorCode, message: string, errors: readonly GraphQLFormattedError[] = []) {
    super(message);
    this.name = 'UpstreamError';
    this.code = code;
    this.errors = errors;
  }
}
