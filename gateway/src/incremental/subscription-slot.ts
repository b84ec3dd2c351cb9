import type { GraphQLError } from 'graphql';

/** One event of a subscription as the executor produces it: errors not yet formatted for the client. */
export interface SubscriptionEventResult {
  data?: Record<string, unknown> | null;
  errors?: readonly GraphQLError[];
}

export type SubscriptionEvents = AsyncIterableIterator<SubscriptionEventResult>;

/**
 * The hand-over of a subscription's event stream from the executor to whoever started the operation.
 * The starter puts a slot on the context it gives Apollo Server; Apollo hands the executor a shallow copy
 * of that context, and the slot (an object) is shared by reference, so what the executor leaves in it
 * is read back once Apollo answered. Without a slot nobody could deliver events: the executor refuses.
 */
const SLOT = Symbol('tollgate.subscription.slot');

export interface SubscriptionSlot {
  events?: SubscriptionEvents;
}

/** Called by the subscription starter on the context it builds, before Apollo Server runs it. */
export function prepareSubscription(context: object): SubscriptionSlot {
  const slot: SubscriptionSlot = {};
  Object.defineProperty(context, SLOT, { value: slot, enumerable: true, configurable: true });
  return slot;
}

/** The slot of a context (or a copy of it), or undefined when no subscription transport started it. */
export function subscriptionSlot(context: object): SubscriptionSlot | undefined {
  return (context as { [SLOT]?: SubscriptionSlot })[SLOT];
}

/**
 * Transforms every event of the stream left in the context's slot (the authorization wrapper adds its
 * denial errors to each event this way). No slot or no stream: nothing to do.
 */
export function mapSubscriptionEvents(
  context: object,
  map: (event: SubscriptionEventResult) => SubscriptionEventResult,
): void {
  const slot = subscriptionSlot(context);
  const inner = slot?.events;
  if (!slot || !inner) return;
  slot.events = {
    async next() {
      const step = await inner.next();
      return step.done ? step : { done: false, value: map(step.value) };
    },
    async return(value?: unknown) {
      return (await inner.return?.(value)) ?? { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
