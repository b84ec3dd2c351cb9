import { connect } from 'node:net';
import { runInNewContext } from 'node:vm';
import { ApolloClient, gql, HttpLink, InMemoryCache } from '@apollo/client';
import { createClient as createSseClient } from 'graphql-sse';
import { createClient } from 'graphql-ws';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ideAsset, idePage } from '../src/server/ide.ts';
import {
  closeHarnesses,
  neverReadingClient,
  rawClient,
  SUB,
  serve,
  sleep,
  until,
} from './fixtures/transports.ts';

afterEach(closeHarnesses);

describe('WebSocket transport (graphql-transport-ws)', () => {
  it('delivers a subscription to graphql-ws’s client, with connection_init credentials in the caller', async () => {
    const h = await serve();
    const client = createClient({
      url: `ws://${h.url}`,
      webSocketImpl: WebSocket,
      connectionParams: { Authorization: 'Bearer from-init' },
      retryAttempts: 0,
    });
    const seen: unknown[] = [];
    for await (const e of client.iterate({ query: SUB, variables: { n: 3, tag: 'a' } })) seen.push(e);
    expect(seen).toEqual([{ data: { n: 1 } }, { data: { n: 2 } }, { data: { n: 3 } }]);
    expect(h.gateway.callers[0]?.headers.authorization).toBe('Bearer from-init');
    expect(h.gateway.callers[0]?.remoteAddress).toMatch(/127\.0\.0\.1/);
    expect(h.ws.stats()).toMatchObject({ events: 3, subscriptions: 0, ended: { complete: 1 } });
    await client.dispose();
  });

  it('answers a result once (next + complete) and a refusal with an error message', async () => {
    const h = await serve();
    const c = await rawClient(h.url);
    c.subscribe('1', { mode: 'result' });
    c.subscribe('2', { mode: 'refuse' });
    await until(() => c.messages.filter((m) => m.type === 'complete' || m.type === 'error').length === 2);
    const of = (id: string) => c.messages.filter((m) => m.id === id).map((m) => [m.type, m.payload]);
    expect(of('1')).toEqual([
      ['next', { data: { hello: 'once' } }],
      ['complete', undefined],
    ]);
    expect(of('2')).toEqual([
      ['error', [{ message: 'No credentials', extensions: { code: 'UNAUTHENTICATED' } }]],
    ]);
    c.ws.close();
  });

  it('masks a stream that throws as an error message', async () => {
    const h = await serve();
    const c = await rawClient(h.url);
    c.subscribe('1', { mode: 'fail', n: 1 });
    await until(() => c.messages.some((m) => m.type === 'error'));
    expect(c.messages.map((m) => m.type)).toEqual(['connection_ack', 'next', 'error']);
    expect(c.messages[2]?.payload).toEqual([
      { message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } },
    ]);
    expect(h.ws.stats().ended.error).toBe(1);
    c.ws.close();
  });

  it('refuses upgrades beyond maxConnections or when overloaded with 503 and Retry-After, other paths with 404', async () => {
    let overloaded = false;
    const h = await serve({ maxConnections: 2, overloaded: () => overloaded });
    const a = await rawClient(h.url);
    const b = await rawClient(h.url);
    const refused = (path: string) =>
      new Promise<{ status?: number; retryAfter?: string | string[] }>((resolve, reject) => {
        const ws = new WebSocket(`ws://${h.url.replace('/graphql', path)}`, 'graphql-transport-ws');
        ws.once('open', () => reject(new Error('accepted')));
        ws.once('error', () => {});
        ws.once('unexpected-response', (_req, res) =>
          resolve({ status: res.statusCode, retryAfter: res.headers['retry-after'] }),
        );
      });
    expect(await refused('/graphql')).toEqual({ status: 503, retryAfter: '1' });
    expect(h.ws.stats()).toMatchObject({ connections: 2, refused: 1 });
    a.ws.close();
    await a.closed;
    await until(() => h.ws.stats().connections === 1);
    expect((await refused('/other')).status).toBe(404);
    overloaded = true;
    expect(await refused('/graphql')).toEqual({ status: 503, retryAfter: '1' });
    overloaded = false;
    const c = await rawClient(h.url);
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    b.ws.close();
    c.ws.close();
  });

  it('answers subscribes beyond maxSubscriptionsPerConnection with an error naming the limit', async () => {
    const h = await serve({ maxSubscriptionsPerConnection: 1 });
    const c = await rawClient(h.url);
    c.subscribe('1', { mode: 'idle', tag: 'first' });
    await until(() => h.gateway.started.has('first'));
    c.subscribe('2', { mode: 'idle', tag: 'second' });
    await until(() => c.messages.some((m) => m.type === 'error'));
    const error = c.messages.find((m) => m.type === 'error');
    expect(error?.id).toBe('2');
    expect(JSON.stringify(error?.payload)).toContain('the limit is 1');
    expect(h.gateway.started.has('second')).toBe(false);
    c.ws.close();
    await until(() => h.gateway.returned.has('first'));
  });

  it('closes a socket that sends no connection_init in time with 4408', async () => {
    const h = await serve({ connectionInitWaitTimeoutMs: 100 });
    const c = await rawClient(h.url, { init: false });
    expect(await c.closed).toBe(4408);
  });

  it('terminates a socket that does not pong, and keeps one that does', async () => {
    const h = await serve({ keepAliveMs: 100 });
    const deaf = await rawClient(h.url, { autoPong: false });
    const alive = await rawClient(h.url);
    deaf.subscribe('1', { mode: 'idle', tag: 'deaf' });
    await until(() => h.gateway.started.has('deaf'));
    expect(await deaf.closed).toBe(1006);
    await until(() => h.gateway.returned.has('deaf'));
    expect(h.ws.stats().ended.keepalive).toBe(1);
    await sleep(300);
    expect(alive.ws.readyState).toBe(WebSocket.OPEN);
    alive.ws.close();
  });

  it('closes a never-reading client at the buffer limit while a fast one keeps receiving', async () => {
    const h = await serve({ maxBufferedBytes: 64 * 1024, keepAliveMs: 0, closeGraceMs: 20_000 });
    const fast = await rawClient(h.url);
    fast.subscribe('1', { ms: 2, tag: 'fast' });
    const slow = await neverReadingClient(h.url);
    slow.subscribe({ mode: 'flood', tag: 'slow' });
    await until(() => h.gateway.returned.has('slow'), 20_000);
    expect(h.ws.stats().ended['slow-consumer']).toBe(1);
    const before = fast.messages.length;
    await sleep(100);
    expect(fast.messages.length).toBeGreaterThan(before);
    expect(fast.ws.readyState).toBe(WebSocket.OPEN);
    expect(h.gateway.returned.has('fast')).toBe(false);
    // reading at last, the slow client finds the close frame after what was buffered
    expect(await slow.closeFrame()).toEqual({ code: 1008, reason: 'slow consumer' });
    slow.socket.destroy();
    await until(() => h.ws.stats().connections === 1, 5000);
    fast.ws.close();
  }, 30_000);

  it('shuts down with 1001 and returns every stream', async () => {
    const h = await serve();
    const c = await rawClient(h.url);
    c.subscribe('1', { mode: 'idle', tag: 'ws' });
    await until(() => h.gateway.started.has('ws'));
    await h.ws.close();
    expect(await c.closed).toBe(1001);
    expect(h.gateway.returned.has('ws')).toBe(true);
    expect(h.ws.stats()).toMatchObject({ connections: 0, subscriptions: 0, ended: { shutdown: 1 } });
    expect(c.messages.some((m) => m.type === 'complete')).toBe(false);
    expect(h.ends).toEqual(['websocket:shutdown']);
  });
});

describe('SSE transport (graphql-sse, distinct connections)', () => {
  it('delivers a subscription to graphql-sse’s client, with its headers in the caller', async () => {
    const h = await serve();
    const client = createSseClient({
      url: `http://${h.url}`,
      headers: { authorization: 'Bearer sse' },
      retryAttempts: 0,
    });
    const seen: unknown[] = [];
    for await (const e of client.iterate({ query: SUB, variables: { n: 3, tag: 'sse' } })) seen.push(e);
    expect(seen).toEqual([{ data: { n: 1 } }, { data: { n: 2 } }, { data: { n: 3 } }]);
    expect(h.gateway.callers[0]?.headers.authorization).toBe('Bearer sse');
    expect(h.sse.stats()).toMatchObject({ events: 3, connections: 0, ended: { complete: 1 } });
    client.dispose();
  });

  it('answers a refusal with its status and a JSON body, and a result as next + complete', async () => {
    const h = await serve();
    const post = (variables: Record<string, unknown>) =>
      fetch(`http://${h.url}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify({ query: SUB, variables }),
      });
    const refused = await post({ mode: 'refuse' });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('content-type')).toMatch(/^application\/json/);
    expect(refused.headers.get('www-authenticate')).toBe('Bearer');
    expect(await refused.json()).toEqual({
      errors: [{ message: 'No credentials', extensions: { code: 'UNAUTHENTICATED' } }],
    });
    const once = await post({ mode: 'result' });
    expect(once.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(await once.text()).toBe(
      ':\n\nevent: next\ndata: {"data":{"hello":"once"}}\n\nevent: complete\ndata:\n\n',
    );
  });

  it('serves GET with query parameters, with keep-alive comments, and returns the stream when the client leaves', async () => {
    const h = await serve({}, { heartbeatMs: 30 });
    const params = new URLSearchParams({
      query: SUB,
      variables: JSON.stringify({ mode: 'idle', tag: 'get' }),
    });
    const controller = new AbortController();
    const res = await fetch(`http://${h.url}?${params}`, {
      headers: { accept: 'text/event-stream' },
      signal: controller.signal,
    });
    expect(res.headers.get('x-stream')).toBe('get');
    const reader = res.body!.getReader();
    let text = '';
    while ((text.match(/:\n\n/g) ?? []).length < 3)
      text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    await until(() => h.gateway.returned.has('get'));
    await until(() => h.sse.stats().connections === 0);
    expect(h.sse.stats().ended.client).toBe(1);
  });
});

describe('HTTP slow consumers', () => {
  it('stops pulling a never-reading SSE client and closes it when it does not drain in time', async () => {
    const h = await serve({}, { drainTimeoutMs: 300, maxBufferedBytes: 128 * 1024 * 1024 });
    const [hostPort = ''] = h.url.split('/');
    const [host, port] = hostPort.split(':');
    const socket = connect(Number(port), host);
    await new Promise((r) => socket.once('connect', r));
    const body = JSON.stringify({ query: SUB, variables: { mode: 'flood', tag: 'sse-slow' } });
    socket.write(
      `POST /graphql HTTP/1.1\r\nHost: ${hostPort}\r\naccept: text/event-stream\r\n` +
        `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    socket.pause();
    await until(() => h.gateway.returned.has('sse-slow'), 20_000);
    expect(h.sse.stats().ended['slow-consumer']).toBe(1);
    // pulled only while writes drained: the kernel buffers' worth, not an unbounded queue
    const pulled = h.sse.stats().events;
    expect(pulled * 16_384).toBeLessThan(48 * 1024 * 1024);
    await sleep(100);
    expect(h.sse.stats().events).toBe(pulled);
    await until(() => h.sse.stats().connections === 0);
    socket.destroy();
  }, 30_000);
});

describe('multipart subscriptions (Apollo Router protocol)', () => {
  it('is parsed by Apollo Client 4’s HttpLink', async () => {
    const h = await serve();
    const client = new ApolloClient({
      link: new HttpLink({ uri: `http://${h.url}`, headers: { authorization: 'Bearer ac' } }),
      cache: new InMemoryCache(),
    });
    const seen: unknown[] = [];
    await new Promise<void>((resolve, reject) => {
      client
        .subscribe({ query: gql(SUB), variables: { n: 3, tag: 'ac' }, fetchPolicy: 'no-cache' })
        .subscribe({ next: (r) => seen.push(r.data), error: reject, complete: resolve });
    });
    expect(seen).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(h.gateway.callers[0]?.headers.authorization).toBe('Bearer ac');
    expect(h.multipart.stats()).toMatchObject({ events: 3, ended: { complete: 1 } });
    client.stop();
  });

  it('writes the exact bytes: payload parts, {} heartbeats and the closing delimiter', async () => {
    const h = await serve({}, { heartbeatMs: 20 });
    const res = await fetch(`http://${h.url}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'multipart/mixed;subscriptionSpec="1.0", application/json',
      },
      body: JSON.stringify({ query: SUB, variables: { n: 2, ms: 70, tag: 'bytes' } }),
    });
    expect(res.headers.get('content-type')).toBe('multipart/mixed;boundary="graphql";subscriptionSpec="1.0"');
    const body = await res.text();
    const part = (json: string) => `\r\n--graphql\r\ncontent-type: application/json\r\n\r\n${json}`;
    expect(body.startsWith('\r\n--graphql\r\n')).toBe(true);
    expect(body.endsWith(`${part('{"payload":{"data":{"n":2}}}')}\r\n--graphql--\r\n`)).toBe(true);
    expect(body).toContain(part('{"payload":{"data":{"n":1}}}'));
    // heartbeats only: everything left after removing the payload parts and the end
    const rest = body
      .replace(part('{"payload":{"data":{"n":1}}}'), '')
      .replace(part('{"payload":{"data":{"n":2}}}'), '')
      .replace('\r\n--graphql--\r\n', '');
    expect(rest.length).toBeGreaterThan(0);
    expect(rest.split(part('{}')).join('')).toBe('');
  });

  it('answers a refusal as plain JSON with its status, and ends a failed or shut down stream with a transport error', async () => {
    const h = await serve();
    const post = (variables: Record<string, unknown>) =>
      fetch(`http://${h.url}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'multipart/mixed;subscriptionSpec=1.0' },
        body: JSON.stringify({ query: SUB, variables }),
      });
    const refused = await post({ mode: 'refuse' });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('content-type')).toMatch(/^application\/json/);
    const failed = await (await post({ mode: 'fail', n: 1 })).text();
    expect(failed).toMatch(
      /\{"payload":null,"errors":\[\{"message":"Unexpected error\.","extensions":\{"code":"INTERNAL_SERVER_ERROR"\}\}\]\}\r\n--graphql--\r\n$/,
    );
    const idle = await post({ mode: 'idle', tag: 'mp' });
    const text = idle.text();
    await until(() => h.gateway.started.has('mp'));
    await h.multipart.close();
    expect(await text).toMatch(
      /"payload":null,"errors":\[\{"message":"The gateway is shutting down.*\r\n--graphql--\r\n$/,
    );
    expect(h.gateway.returned.has('mp')).toBe(true);
    expect(h.multipart.stats().ended).toMatchObject({ error: 1, shutdown: 1 });
    expect(h.ends).toEqual(['multipart:error', 'multipart:shutdown']);
  });
});

describe('GraphiQL', () => {
  it('runs subscriptions over graphql-transport-ws on the page’s own host', () => {
    const script = /<script>([\s\S]*?)<\/script>/.exec(idePage('/graphql'))?.[1] ?? '';
    const seen: Record<string, unknown>[] = [];
    const GraphiQL = Object.assign(() => null, {
      createFetcher: (options: Record<string, unknown>) => {
        seen.push(options);
        return () => null;
      },
    });
    for (const href of ['http://gw.local:4000/graphql', 'https://gw.example/graphql']) {
      runInNewContext(script, {
        GraphiQL,
        URL,
        location: { href },
        React: { createElement: () => null },
        ReactDOM: { createRoot: () => ({ render: () => {} }) },
        document: { getElementById: () => null },
      });
    }
    expect(seen).toEqual([
      { url: '/graphql', subscriptionUrl: 'ws://gw.local:4000/graphql' },
      { url: '/graphql', subscriptionUrl: 'wss://gw.example/graphql' },
    ]);
    // the bundle carries the graphql-ws client that subscriptionUrl needs
    expect(ideAsset('graphiql.min.js')?.body.includes('graphql-transport-ws')).toBe(true);
  });
});
