import {
  createHttpStreamTransport,
  type HttpStreamOptions,
  type HttpSubscriptionTransport,
} from './http-stream.ts';
import { encodeSseNext, SSE_COMPLETE, SSE_HEARTBEAT } from './wire.ts';

export interface SseTransportOptions extends HttpStreamOptions {
  /** Interval of the `:` comment keep-alives; 0 turns them off. @default 12000 (graphql-sse's) */
  heartbeatMs?: number;
}

/**
 * GraphQL over Server-Sent Events (graphql-sse's protocol), distinct connections mode: one operation per
 * `GET`/`POST /graphql` with `accept: text/event-stream`. Written here rather than with graphql-sse's
 * createHandler, whose stream queues every event without bound for a client that does not read, pings at a
 * fixed 12 s and reads the body itself; the frames are the ones its client parses (lib/common print()).
 * A stream that fails ends with a `next` carrying the error, then `complete`; on shutdown the response
 * ends without `complete`, so graphql-sse's client retries.
 */
export function createSseTransport(options: SseTransportOptions): HttpSubscriptionTransport {
  return createHttpStreamTransport(
    'sse',
    {
      contentType: 'text/event-stream; charset=utf-8',
      headers: { connection: 'keep-alive', 'content-encoding': 'none', 'x-accel-buffering': 'no' },
      first: SSE_HEARTBEAT,
      heartbeat: SSE_HEARTBEAT,
      next: encodeSseNext,
      complete: SSE_COMPLETE,
      failure: (errors) => `${encodeSseNext({ errors })}${SSE_COMPLETE}`,
      shutdown: '',
    },
    { ...options, heartbeatMs: options.heartbeatMs ?? 12_000 },
  );
}
