// Topics shared by every replica of a service (subscriptions): Redis pub/sub, PostgreSQL LISTEN/NOTIFY,
// or an outbox table polled on the embedded database; in-process without either.
export type { PubSubMechanism } from './backend.ts';
export { createPubSub, type PubSub, type PubSubOptions, type SubscribeOptions } from './create-pubsub.ts';
export { PubSubError, type PubSubErrorCode } from './errors.ts';
export type { PostgresPubSubMode } from './postgres-backend.ts';
