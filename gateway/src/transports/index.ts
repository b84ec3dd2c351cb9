// The client-facing subscription transports: graphql-transport-ws over WebSocket, GraphQL over SSE and
// multipart subscriptions, each a protocol adapter over the gateway's StartSubscription.
export type { HttpStreamOptions, HttpSubscriptionTransport } from './http-stream.ts';
export { createMultipartTransport, type MultipartTransportOptions } from './multipart.ts';
export { parseSubscriptionRequest, wantsSubscriptionTransport } from './routing.ts';
export { createSseTransport, type SseTransportOptions } from './sse.ts';
export type { TransportEndReason, TransportOptions, TransportProtocol, TransportStats } from './types.ts';
export {
  createWebSocketTransport,
  type WebSocketTransport,
  type WebSocketTransportOptions,
} from './websocket.ts';
