import type { IncomingMessage } from 'node:http';
import type { StartSubscription } from '../subscriptions/index.ts';

/** The client-facing subscription protocols. */
export type TransportProtocol = 'websocket' | 'sse' | 'multipart';

/**
 * Why a stream (one subscription) ended, as the transport saw it: the stream finished (`complete`), the
 * client unsubscribed or went away (`client`), it could not keep up (`slow-consumer`), the gateway is
 * shutting down (`shutdown`), the stream threw (`error`), or its WebSocket missed a pong (`keepalive`).
 */
export type TransportEndReason = 'complete' | 'client' | 'slow-consumer' | 'shutdown' | 'error' | 'keepalive';

/** Counters for metrics (gateway.subscriptions.*), one set per transport. */
export interface TransportStats {
  protocol: TransportProtocol;
  /** Client connections open now: WebSockets, or SSE / multipart responses being streamed. */
  connections: number;
  /** Streams (subscriptions) open now. */
  subscriptions: number;
  /** Events delivered to clients since start (`next` messages, SSE `next` events, multipart payload parts). */
  events: number;
  /** Streams ended since start, by reason. */
  ended: Readonly<Record<TransportEndReason, number>>;
  /** Connections or subscriptions refused by a limit since start (maxConnections, maxSubscriptionsPerConnection). */
  refused: number;
}

/** Options every transport takes. */
export interface TransportOptions {
  /** The caller's address (`server.trustedProxies`). @default the socket's peer */
  clientAddress?: (req: IncomingMessage) => string;
  /** Starts one operation (authentication, cost, planning, upstream are behind it). */
  start: StartSubscription;
  /**
   * Bytes a client may leave unread on its connection before it is closed as a slow consumer (its streams
   * are stopped). @default 1048576 (1 MiB)
   */
  maxBufferedBytes?: number;
  /** Called once per stream that ends, with why (metrics, logs). */
  onEnd?: (protocol: TransportProtocol, reason: TransportEndReason) => void;
}
