import { ErrorCode } from '../errors/index.ts';
import {
  createHttpStreamTransport,
  type HttpStreamOptions,
  type HttpSubscriptionTransport,
} from './http-stream.ts';
import {
  encodeMultipartError,
  encodeMultipartPayload,
  MULTIPART_END,
  MULTIPART_HEARTBEAT,
  MULTIPART_SUBSCRIPTION_CONTENT_TYPE,
} from './wire.ts';

export interface MultipartTransportOptions extends HttpStreamOptions {
  /** Interval of the `{}` heartbeat parts; 0 turns them off. @default 5000 (Apollo Router's) */
  heartbeatMs?: number;
}

/**
 * Multipart subscriptions (Apollo Router's protocol; Apollo Client's HttpLink default for subscriptions):
 * `accept: multipart/mixed;subscriptionSpec=1.0`, each event a `{"payload":…}` part, `{}` heartbeats,
 * a stream that fails or is shut down ends with a `{"payload":null,"errors":[…]}` part (a transport error
 * to Apollo Client), then the closing delimiter.
 */
export function createMultipartTransport(options: MultipartTransportOptions): HttpSubscriptionTransport {
  return createHttpStreamTransport(
    'multipart',
    {
      contentType: MULTIPART_SUBSCRIPTION_CONTENT_TYPE,
      headers: {},
      first: '',
      heartbeat: MULTIPART_HEARTBEAT,
      next: encodeMultipartPayload,
      complete: MULTIPART_END,
      failure: (errors) => `${encodeMultipartError(errors)}${MULTIPART_END}`,
      shutdown: `${encodeMultipartError([
        {
          message: 'The gateway is shutting down; subscribe again',
          extensions: { code: ErrorCode.OVERLOADED },
        },
      ])}${MULTIPART_END}`,
    },
    { ...options, heartbeatMs: options.heartbeatMs ?? 5000 },
  );
}
