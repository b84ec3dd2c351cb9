import { HeaderMap } from '@apollo/server';
import { GraphQLError, type GraphQLErrorOptions } from 'graphql';
import { ErrorCode, statusOf } from './codes.ts';

export interface GatewayErrorOptions {
  /** Structured numbers and names for clients (never put them only in the message). */
  extensions?: Record<string, unknown>;
  /** Response headers to add, e.g. Retry-After. */
  headers?: Record<string, string>;
  /**
   * Overrides the code's default status. `null` leaves the status to the rest of the response: an error
   * at a field path inside partial data must not turn the whole response into an error status.
   */
  status?: number | null;
  path?: GraphQLErrorOptions['path'];
  cause?: unknown;
}

/**
 * Base of every error the gateway raises on purpose. `extensions.http` is read by Apollo Server's
 * normalizer to set the status and headers, then stripped from the body.
 */
export class GatewayError extends GraphQLError {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options: GatewayErrorOptions = {}) {
    const status = options.status === undefined ? statusOf[code] : options.status;
    const http =
      status === null
        ? {}
        : { http: { status, headers: new HeaderMap(Object.entries(options.headers ?? {})) } };
    super(message, {
      path: options.path,
      originalError: options.cause instanceof Error ? options.cause : undefined,
      extensions: { ...options.extensions, code, ...http },
    });
    this.code = code;
    this.name = new.target.name;
  }
}

export class UnauthenticatedError extends GatewayError {
  constructor(message: string, options?: GatewayErrorOptions) {
    super(ErrorCode.UNAUTHENTICATED, message, options);
  }
}
export class ForbiddenError extends GatewayError {
  constructor(message: string, options?: GatewayErrorOptions) {
    super(ErrorCode.FORBIDDEN, message, options);
  }
}
export class CostLimitExceededError extends GatewayError {
  constructor(message: string, options?: GatewayErrorOptions) {
    super(ErrorCode.COST_LIMIT_EXCEEDED, message, options);
  }
}
export class RateLimitedError extends GatewayError {
  constructor(message: string, options?: GatewayErrorOptions) {
    super(ErrorCode.RATE_LIMITED, message, options);
  }
}
export class BadRequestError extends GatewayError {
  constructor(message: string, options?: GatewayErrorOptions) {
    super(ErrorCode.BAD_REQUEST, message, options);
  }
}
export class PersistedQueryNotInListError extends GatewayError {
  constructor(message: string, options?: GatewayErrorOptions) {
    super(ErrorCode.PERSISTED_QUERY_NOT_IN_LIST, message, options);
  }
}
export class PersistedQueryNotFoundError extends GatewayError {
  constructor(message: string, options?: GatewayErrorOptions) {
    // 200 and uncached, as Apollo Server answers it: APQ clients then resend the query text
    super(ErrorCode.PERSISTED_QUERY_NOT_FOUND, message, {
      ...options,
      headers: { 'cache-control': 'private, no-cache, must-revalidate', ...options?.headers },
    });
  }
}
