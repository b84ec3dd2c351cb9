// Incremental delivery (@defer): the hand-over from the executor to the HTTP layer, the JSON merge for
// clients that do not take multipart, and the multipart/mixed wire format (docs/incremental.md); and the
// hand-over of a subscription's event stream (subscription-slot.ts).
export {
  attachIncremental,
  cancelStream,
  combineStreams,
  incrementalDelivery,
  prepareIncremental,
  takeIncremental,
  takeIncrementalPerOperation,
} from './attach.ts';
export {
  type FormattedIncrementalItem,
  type FormattedResult,
  type FormattedSubsequentPayload,
  mergeAtPath,
  mergeIncremental,
} from './merge.ts';
export {
  mapSubscriptionEvents,
  prepareSubscription,
  type SubscriptionEventResult,
  type SubscriptionEvents,
  type SubscriptionSlot,
  subscriptionSlot,
} from './subscription-slot.ts';
export type { IncrementalDelivery, IncrementalItem, IncrementalStream, SubsequentPayload } from './types.ts';
export {
  acceptsMultipart,
  encodePart,
  type FormatError,
  type FormatOptions,
  formatErrors,
  formatPayload,
  MULTIPART_CONTENT_TYPE,
} from './wire.ts';
