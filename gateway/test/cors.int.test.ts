// server.cors over real HTTP: preflights answered by the gateway (not Apollo Server's 400), the headers
// of actual, error and streaming responses, CSRF prevention still refusing what a browser sends without a
// preflight, and WebSocket upgrades checked against the same origins.
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { withCors } from '../src/cors/index.ts';
import { createGateway, type Gateway, type GatewayConfigInput, loadConfig } from '../src/index.ts';
import {
  PRODUCTS_SDL,
  productsResolvers,
  REVIEWS_SDL,
  reviewsResolvers,
  startTestSubgraph,
  type TestSubgraph,
  tempFiles,
} from './helpers.ts';

const APP = 'http://app.test:3000';
const EVIL = 'http://evil.test';
const QUERY = '{ topProducts(first: 1) { upc } }';
const files = tempFiles('cors');

let products: TestSubgraph;
let reviews: TestSubgraph;
const gateways: Gateway[] = [];

async function start(cors?: NonNullable<GatewayConfigInput['server']>['cors']): Promise<string> {
  const config = loadConfig({
    env: {},
    base: {
      server: { port: 0, host: '127.0.0.1', ...(cors ? { cors } : {}) },
      ratelimit: { enabled: false },
      telemetry: { accessLog: false },
      subgraphs: [
        {
          name: 'products',
          replicas: [products.url],
          schemaFile: files.write('products.graphql', PRODUCTS_SDL),
        },
        { name: 'reviews', replicas: [reviews.url], schemaFile: files.write('reviews.graphql', REVIEWS_SDL) },
      ],
    },
  });
  const gateway = await createGateway({ config });
  gateways.push(gateway);
  return gateway.listen();
}

beforeAll(async () => {
  [products, reviews] = await Promise.all([
    startTestSubgraph(PRODUCTS_SDL, productsResolvers),
    startTestSubgraph(REVIEWS_SDL, reviewsResolvers),
  ]);
});
afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close(100)));
  await Promise.all([products, reviews].map((s) => s?.stop()));
});

const preflight = (url: string, origin: string, requestHeaders = 'content-type') =>
  fetch(url, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': requestHeaders,
    },
  });
const post = (url: string, headers: Record<string, string>, body = JSON.stringify({ query: QUERY })) =>
  fetch(url, { method: 'POST', headers, body });
const corsHeaders = (res: Response) =>
  [...res.headers.keys()].filter((k) => k.startsWith('access-control-')).sort();

describe('server.cors off (the default)', () => {
  let url: string;
  beforeAll(async () => {
    url = await start();
  });

  it('refuses a preflight with 403 and no CORS header, saying cors is off', async () => {
    const res = await preflight(url, APP);
    expect(res.status).toBe(403);
    expect(corsHeaders(res)).toEqual([]);
    expect(await res.json()).toEqual({
      error: 'CORS preflight refused: cross-origin requests are off: server.cors.origins is empty',
    });
  });

  it('answers a plain OPTIONS (no preflight headers) 204 with Allow', async () => {
    const res = await fetch(url, { method: 'OPTIONS' });
    expect(res.status).toBe(204);
    expect(res.headers.get('allow')).toBe('GET, POST, OPTIONS');
  });

  it('serves a cross-origin POST (a server may send one) without CORS headers, so a browser cannot read it', async () => {
    const res = await post(url, { origin: APP, 'content-type': 'application/json' });
    expect(res.status).toBe(200);
    expect(corsHeaders(res)).toEqual([]);
    expect(((await res.json()) as { data: unknown }).data).toEqual({ topProducts: [{ upc: '1' }] });
  });
});

describe('server.cors with an allowed origin and credentials', () => {
  let url: string;
  beforeAll(async () => {
    url = await start({ origins: [APP], credentials: true, maxAgeSeconds: 120 });
  });

  it('answers the preflight 204 with the exact origin, credentials, methods, headers, max-age and Vary', async () => {
    const res = await preflight(url, APP, 'content-type, authorization');
    expect(res.status).toBe(204);
    expect(Object.fromEntries([...res.headers].filter(([k]) => k.startsWith('access-control-')))).toEqual({
      'access-control-allow-origin': APP,
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'GET, POST',
      // the default list: what the gateway reads, plus the headers of trace context and CSRF prevention
      'access-control-allow-headers':
        'accept, authorization, content-type, x-api-key, apollo-require-preflight, x-apollo-operation-name, apollographql-client-name, apollographql-client-version, traceparent, tracestate, baggage',
      'access-control-max-age': '120',
    });
    expect(res.headers.get('vary')).toBe('Origin');
  });

  it('refuses the preflight of an origin not listed, with no CORS header', async () => {
    const res = await preflight(url, EVIL);
    expect(res.status).toBe(403);
    expect(corsHeaders(res)).toEqual([]);
  });

  it('gives the actual response the origin, credentials, exposed headers and Vary', async () => {
    const res = await post(url, { origin: APP, 'content-type': 'application/json' });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(APP);
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    expect(res.headers.get('access-control-expose-headers')).toBe(
      'traceparent, ratelimit, ratelimit-policy, retry-after',
    );
    expect(res.headers.get('vary')).toBe('Origin');
  });

  it('gives an unlisted origin no CORS header (only Vary)', async () => {
    const res = await post(url, { origin: EVIL, 'content-type': 'application/json' });
    expect(corsHeaders(res)).toEqual([]);
    expect(res.headers.get('vary')?.toLowerCase()).toContain('origin');
  });

  it('puts the CORS headers on error answers too, so the page can read why', async () => {
    const res = await post(url, { origin: APP, 'content-type': 'application/json' }, '{ nope');
    expect(res.status).toBe(400);
    expect(res.headers.get('access-control-allow-origin')).toBe(APP);
  });

  // What a page may send cross-site with no preflight (Fetch's "simple" requests): CSRF prevention must
  // refuse each before execution, the allowed origin notwithstanding.
  it.each([
    ['POST text/plain', { 'content-type': 'text/plain' }, 'POST'],
    ['POST form-urlencoded', { 'content-type': 'application/x-www-form-urlencoded' }, 'POST'],
    ['POST multipart/form-data', { 'content-type': 'multipart/form-data; boundary=x' }, 'POST'],
    ['GET with no custom header', {}, 'GET'],
    ['GET for SSE (EventSource sends no custom header)', { accept: 'text/event-stream' }, 'GET'],
  ] as const)('refuses a preflight-free %s with CSRF prevention', async (_name, headers, method) => {
    products.received.length = 0;
    const res =
      method === 'GET'
        ? await fetch(`${url}?query=${encodeURIComponent(QUERY)}`, { headers: { origin: APP, ...headers } })
        : await post(url, { origin: APP, ...headers });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/Cross-Site Request Forgery/);
    expect(products.received).toEqual([]);
  });

  it('serves a GET that carries apollo-require-preflight (a header that forces a preflight)', async () => {
    const res = await fetch(`${url}?query=${encodeURIComponent(QUERY)}`, {
      headers: { origin: APP, 'apollo-require-preflight': 'true' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(APP);
  });

  it('puts the CORS headers on a multipart @defer response', async () => {
    const res = await post(
      url,
      { origin: APP, 'content-type': 'application/json', accept: 'multipart/mixed;deferSpec=20220824' },
      JSON.stringify({ query: '{ topProducts(first: 1) { upc ... @defer { reviews { body } } } }' }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^multipart\/mixed/);
    expect(res.headers.get('access-control-allow-origin')).toBe(APP);
    expect(await res.text()).toContain('Review of 1');
  });

  it('puts the CORS headers on an SSE response', async () => {
    const res = await post(
      url,
      { origin: APP, 'content-type': 'application/json', accept: 'text/event-stream' },
      JSON.stringify({ query: QUERY }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('access-control-allow-origin')).toBe(APP);
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    expect(await res.text()).toContain('"upc":"1"');
  });

  // WebSocket has no CORS: the gateway checks the upgrade's Origin itself.
  const upgrade = (wsUrl: string, origin?: string) =>
    new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(wsUrl, 'graphql-transport-ws', origin ? { origin } : {});
      ws.once('open', () => {
        ws.close();
        resolve(101);
      });
      ws.once('unexpected-response', (_req, res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      ws.once('error', reject);
    });

  it.each([
    ['an allowed origin', APP, 101],
    ['the gateway’s own origin', 'self', 101],
    ['no Origin (not a browser)', undefined, 101],
    ['an origin not listed', EVIL, 403],
  ] as const)('WebSocket upgrade from %s → %s', async (_name, origin, status) => {
    const wsUrl = url.replace(/^http/, 'ws');
    const self = new URL(url).origin;
    expect(await upgrade(wsUrl, origin === 'self' ? self : origin)).toBe(status);
  });
});

describe('server.cors with origins ["*"]', () => {
  it('answers Allow-Origin * and no credentials', async () => {
    const url = await start({ origins: ['*'] });
    const res = await post(url, { origin: EVIL, 'content-type': 'application/json' });
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    const pre = await preflight(url, EVIL);
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
  });
});

// a raw request, to see that the preflight never reached Apollo Server (no GraphQL body, no traceparent)
it('answers a preflight without running the GraphQL handler', async () => {
  const url = new URL(await start({ origins: [APP] }));
  const res = await new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      const req = request(url, {
        method: 'OPTIONS',
        headers: { origin: APP, 'access-control-request-method': 'POST' },
      });
      req.once('response', (r) => {
        let body = '';
        r.on('data', (d: Buffer) => (body += d)).on('end', () =>
          resolve({ status: r.statusCode ?? 0, headers: r.headers, body }),
        );
      });
      req.once('error', reject).end();
    },
  );
  expect(res.status).toBe(204);
  expect(res.body).toBe('');
  expect(res.headers.traceparent).toBeUndefined();
});

it('keeps Vary: Origin when the handler writes a Vary of its own', async () => {
  const handler = withCors(
    async (_req, res) => {
      res.setHeader('Vary', 'Accept-Encoding');
      res.writeHead(200, { vary: 'Accept', 'content-type': 'text/plain' });
      res.end('ok');
    },
    { origins: [APP], credentials: false, allowedHeaders: [], exposedHeaders: [], maxAgeSeconds: 0 },
  );
  const server = createServer((req, res) => void handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, {
      headers: { origin: APP },
    });
    expect(res.headers.get('vary')).toBe('Accept, Origin');
    expect(res.headers.get('access-control-allow-origin')).toBe(APP);
  } finally {
    server.close();
  }
});
