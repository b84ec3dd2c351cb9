import { describe, expect, it } from 'vitest';
import { parseSubscriptionRequest, wantsSubscriptionTransport } from './routing.ts';

describe('wantsSubscriptionTransport', () => {
  const cases: [method: string, accept: string | undefined, expected: 'sse' | 'multipart' | undefined][] = [
    [
      'POST',
      'multipart/mixed;boundary=graphql;subscriptionSpec=1.0,application/graphql-response+json,application/json;q=0.9',
      'multipart',
    ],
    ['POST', 'multipart/mixed;subscriptionSpec="1.0"', 'multipart'],
    ['POST', 'multipart/mixed; SubscriptionSpec=1.0', 'multipart'],
    ['GET', 'multipart/mixed;subscriptionSpec=1.0', 'multipart'],
    ['POST', 'multipart/mixed;deferSpec=20220824, application/json', undefined],
    ['POST', 'multipart/mixed', undefined],
    ['POST', 'application/json, multipart/mixed', undefined],
    ['POST', 'text/event-stream', 'sse'],
    ['GET', 'text/event-stream', 'sse'],
    ['POST', 'application/json, text/event-stream;q=0.5', 'sse'],
    ['POST', 'text/event-stream;q=0', undefined],
    ['POST', 'multipart/mixed;subscriptionSpec=1.0;q=0, text/event-stream', 'sse'],
    ['POST', 'application/json', undefined],
    ['GET', 'text/html', undefined],
    ['POST', undefined, undefined],
    ['PUT', 'text/event-stream', undefined],
    ['DELETE', 'multipart/mixed;subscriptionSpec=1.0', undefined],
  ];
  for (const [method, accept, expected] of cases) {
    it(`${method} ${accept ?? '(no accept)'} → ${expected ?? 'none'}`, () => {
      expect(wantsSubscriptionTransport(method, { accept })).toBe(expected);
    });
  }
});

describe('parseSubscriptionRequest', () => {
  it('reads a POST body', () => {
    expect(
      parseSubscriptionRequest('POST', '', {
        query: 'subscription { a }',
        variables: { x: 1 },
        operationName: null,
      }),
    ).toEqual({
      request: {
        query: 'subscription { a }',
        variables: { x: 1 },
        operationName: null,
        extensions: undefined,
      },
    });
  });

  it('reads GET query parameters', () => {
    const search = `?query=${encodeURIComponent('subscription { a }')}&variables=${encodeURIComponent('{"x":1}')}&operationName=A`;
    expect(parseSubscriptionRequest('GET', search, undefined)).toEqual({
      request: {
        query: 'subscription { a }',
        variables: { x: 1 },
        operationName: 'A',
        extensions: undefined,
      },
    });
  });

  const bad: [string, string, unknown][] = [
    ['POST', '', 'subscription { a }'],
    ['POST', '', [{ query: '{ a }' }]],
    ['POST', '', null],
    ['POST', '', { query: 1 }],
    ['POST', '', { query: '{ a }', variables: [] }],
    ['POST', '', { query: '{ a }', operationName: 3 }],
    ['POST', '', { query: '{ a }', extensions: 'x' }],
    ['GET', '?query=x&variables=%7B', undefined],
    ['GET', '?query=x&variables=%5B%5D', undefined],
  ];
  for (const [method, search, body] of bad) {
    it(`refuses ${method} ${search || JSON.stringify(body)}`, () => {
      expect(parseSubscriptionRequest(method, search, body)).toHaveProperty('error');
    });
  }
});
