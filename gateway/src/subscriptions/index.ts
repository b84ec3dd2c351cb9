// Subscriptions: starting them through the gateway's pipeline, governing each one (credentials, budget,
// limits) and the contract with the transports (types.ts).
export { createEventCharge, type EventCharge, type EventChargeDeps } from './charge.ts';
export { type GovernOptions, govern, type StreamEnd } from './govern.ts';
export {
  createSubscriptionStarter,
  type SubscriptionContext,
  type SubscriptionStarter,
  type SubscriptionStarterOptions,
  type SubscriptionStarterStats,
} from './start.ts';
export type {
  StartSubscription,
  StreamEndReason,
  SubscriptionCaller,
  SubscriptionRequest,
  SubscriptionStart,
} from './types.ts';
