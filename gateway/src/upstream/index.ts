// The gateway's own subscriptions to subgraph replicas (graphql-transport-ws over WebSocket): replica
// choice through the pool, signing, deduplication of identical ones, failover to another replica.
export { UpstreamError, type UpstreamErrorCode } from './errors.ts';
export {
  createUpstreamHub,
  type UpstreamHub,
  type UpstreamHubOptions,
  type UpstreamHubStats,
  type UpstreamSubscribeOptions,
} from './hub.ts';
export type { UpstreamRequest, UpstreamSign } from './upstream.ts';
