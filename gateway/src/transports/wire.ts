import type { FormattedExecutionResult, GraphQLFormattedError } from 'graphql';

// Multipart subscriptions (Apollo Router's protocol, Apollo Client's default for subscriptions over
// HTTP): every part is preceded by CRLF + delimiter, so the first part starts with "\r\n--graphql" too;
// Apollo Client's readMultipartBody splits on exactly "\r\n--graphql" and ends at "--graphql--".

/** The response content type of a multipart subscription. */
export const MULTIPART_SUBSCRIPTION_CONTENT_TYPE =
  'multipart/mixed;boundary="graphql";subscriptionSpec="1.0"';

const PART_HEAD = '\r\n--graphql\r\ncontent-type: application/json\r\n\r\n';

/** One part carrying an execution result: `{"payload":{...}}`. */
export function encodeMultipartPayload(result: FormattedExecutionResult): string {
  return `${PART_HEAD}${JSON.stringify({ payload: result })}`;
}

/** A transport-level error part (the stream failed, not a field): `{"payload":null,"errors":[...]}`. */
export function encodeMultipartError(errors: readonly GraphQLFormattedError[]): string {
  return `${PART_HEAD}${JSON.stringify({ payload: null, errors })}`;
}

/** The heartbeat part, `{}`, which clients skip. */
export const MULTIPART_HEARTBEAT = `${PART_HEAD}{}`;

/** The closing delimiter, after which the response ends. */
export const MULTIPART_END = '\r\n--graphql--\r\n';

// GraphQL over Server-Sent Events (graphql-sse's PROTOCOL.md), distinct connections mode: one operation
// per response, events `next` (data: the result) and `complete` (no data), comments as keep-alives.

/** An SSE `next` event carrying an execution result. */
export function encodeSseNext(result: FormattedExecutionResult): string {
  return `event: next\ndata: ${JSON.stringify(result)}\n\n`;
}

/** The SSE `complete` event (data empty, as graphql-sse prints it). */
export const SSE_COMPLETE = 'event: complete\ndata:\n\n';

/** An SSE comment: sent first (some browsers wait for a first byte) and as the keep-alive. */
export const SSE_HEARTBEAT = ':\n\n';
