// Subscriptions: starting them through the gateway's pipeline, governing each one (budgets, expiry,
// limits) and the contract with the transports.
export type {
  StartSubscription,
  StreamEndReason,
  SubscriptionCaller,
  SubscriptionRequest,
  SubscriptionStart,
} from './types.ts';
