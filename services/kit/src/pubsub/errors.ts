export type PubSubErrorCode = 'PUBSUB_CLOSED' | 'PUBSUB_UNAVAILABLE';

/** A publish or subscription the pub/sub could not carry; callers match on `code`. */
export class PubSubError extends Error {
  readonly code: PubSubErrorCode;

  constructor(code: PubSubErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PubSubError';
    this.code = code;
  }
}
