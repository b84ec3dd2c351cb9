// The contract between the subscription transports (WebSocket, SSE, multipart: gateway/src/transports)
// and the gateway that starts subscriptions (this folder). Transports speak protocols; starting a
// subscription (authentication, validation, authorization, cost, budgets, planning, the upstream) is here.
import type { FormattedExecutionResult } from 'graphql';

/** What a client sent to start an operation: a graphql-ws `subscribe` payload, an SSE or multipart body. */
export interface SubscriptionRequest {
  query?: string;
  variables?: Record<string, unknown> | null;
  operationName?: string | null;
  extensions?: Record<string, unknown> | null;
}

/** Who is asking, as the transport saw them. */
export interface SubscriptionCaller {
  /**
   * Request headers, names lower-case. For a WebSocket: the upgrade request's, with the `connection_init`
   * payload's `authorization` (or `Authorization`) replacing the header's when present.
   */
  headers: Readonly<Record<string, string>>;
  /** The caller's address: the socket's peer, or the client behind `server.trustedProxies`. */
  remoteAddress: string;
  /** One id per client connection (a WebSocket; an SSE or multipart request is a connection of its own). */
  connectionId: string;
  /**
   * How the operation came: an HTTP GET or POST (SSE, multipart), which Apollo Server's rules for that
   * method then apply to (CSRF prevention, no mutation over GET), or a WebSocket message, for which
   * cookies are not credentials (a page on another site can open a WebSocket with them).
   */
  method: 'GET' | 'POST' | 'WEBSOCKET';
}

/** Why a stream ended, when the gateway ended it (metrics and logs count by it). */
export type StreamEndReason =
  | 'complete'
  | 'client'
  | 'expired'
  | 'revoked'
  | 'budget'
  | 'slow-consumer'
  | 'upstream'
  | 'shutdown'
  | 'error';

export type SubscriptionStart =
  /**
   * Answered once: a refusal (no credentials, 429, a validation error) or a query or mutation sent over a
   * subscription transport. `status` is the HTTP status the same request would get over POST /graphql.
   */
  | {
      kind: 'result';
      status: number;
      headers: Readonly<Record<string, string>>;
      result: FormattedExecutionResult;
    }
  /**
   * A subscription: events until the iterator ends. A last event may carry `errors` (for example
   * RATE_LIMITED with `extensions.retryAfterSeconds`, or UNAUTHENTICATED when the token expired) before
   * the iterator is done. `return()` stops it (the client went away or unsubscribed).
   */
  | {
      kind: 'stream';
      headers: Readonly<Record<string, string>>;
      events: AsyncIterableIterator<FormattedExecutionResult>;
    };

/** Starts one operation for a transport. Never throws for bad input: that is a `result` with errors. */
export type StartSubscription = (
  caller: SubscriptionCaller,
  request: SubscriptionRequest,
) => Promise<SubscriptionStart>;
