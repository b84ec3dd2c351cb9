import { describe, expect, it } from 'vitest';
import {
  encodeMultipartError,
  encodeMultipartPayload,
  encodeSseNext,
  MULTIPART_END,
  MULTIPART_HEARTBEAT,
  MULTIPART_SUBSCRIPTION_CONTENT_TYPE,
  SSE_COMPLETE,
} from './wire.ts';

describe('multipart subscription wire format', () => {
  it('frames a payload as Apollo Router does, delimiter first', () => {
    expect(encodeMultipartPayload({ data: { n: 1 } })).toBe(
      '\r\n--graphql\r\ncontent-type: application/json\r\n\r\n{"payload":{"data":{"n":1}}}',
    );
  });

  it('keeps the errors of a result inside its payload', () => {
    const part = encodeMultipartPayload({ data: null, errors: [{ message: 'x' }] });
    expect(JSON.parse(part.slice(part.indexOf('\r\n\r\n') + 4))).toEqual({
      payload: { data: null, errors: [{ message: 'x' }] },
    });
  });

  it('frames a transport error with a null payload', () => {
    const part = encodeMultipartError([{ message: 'gone', extensions: { code: 'X' } }]);
    expect(part.endsWith('{"payload":null,"errors":[{"message":"gone","extensions":{"code":"X"}}]}')).toBe(
      true,
    );
  });

  it('has an empty-object heartbeat, a closing delimiter and the subscriptionSpec content type', () => {
    expect(MULTIPART_HEARTBEAT).toBe('\r\n--graphql\r\ncontent-type: application/json\r\n\r\n{}');
    expect(MULTIPART_END).toBe('\r\n--graphql--\r\n');
    expect(MULTIPART_SUBSCRIPTION_CONTENT_TYPE).toBe(
      'multipart/mixed;boundary="graphql";subscriptionSpec="1.0"',
    );
  });

  it('splits back into its payloads on "\\r\\n--graphql" (how Apollo Client reads it)', () => {
    const body = [
      encodeMultipartPayload({ data: { n: 1 } }),
      MULTIPART_HEARTBEAT,
      encodeMultipartPayload({ data: { n: 2 } }),
      MULTIPART_END,
    ].join('');
    const parts = body
      .split('\r\n--graphql')
      .slice(1)
      .filter((p) => !p.startsWith('--'))
      .map((p) => JSON.parse(p.slice(p.indexOf('\r\n\r\n') + 4)));
    expect(parts).toEqual([{ payload: { data: { n: 1 } } }, {}, { payload: { data: { n: 2 } } }]);
  });
});

describe('SSE wire format', () => {
  it('frames next and complete as graphql-sse prints them', () => {
    expect(encodeSseNext({ data: { n: 1 } })).toBe('event: next\ndata: {"data":{"n":1}}\n\n');
    expect(SSE_COMPLETE).toBe('event: complete\ndata:\n\n');
  });

  it('keeps a result on one data line (JSON has no raw newlines)', () => {
    expect(encodeSseNext({ data: { s: 'a\nb' } }).split('\n').length).toBe(4);
  });
});
