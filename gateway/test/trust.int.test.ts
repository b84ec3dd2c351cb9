import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, HeaderMap } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { createClient as createSseClient } from 'graphql-sse';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createApiKeyManager, createFileApiKeyStore } from '../src/auth/index.ts';
import { createClientAddressResolver } from '../src/client-address/index.ts';
import { createGateway, type Gateway, loadConfig } from '../src/index.ts';
import { closeHarnesses, SUB, serve } from './fixtures/transports.ts';
import {
  gql,
  killGateways,
  PRODUCTS_SDL,
  productsResolvers,
  spawnGateway,
  startTestSubgraph,
  type TestSubgraph,
  tempFiles,
} from './helpers.ts';

// Who the client is behind proxies (server.trustedProxies), the throttle of failed authentications per
// client address (auth.failureThrottle) and the client's baggage (telemetry.baggage.allowKeys), end to
// end over HTTP. This test's own requests come from 127.0.0.1: with `loopback` trusted, the test plays
// the proxy and X-Forwarded-For says which client is behind it.
const QUERY = '{ topProducts(first: 2) { upc } }'; // cost 1 (the SDL has no @cost or @listSize)
const files = tempFiles('trust');
const sdlFile = files.write('products.graphql', PRODUCTS_SDL);
type Line = { level: string; message: string; fields?: Record<string, unknown> };

let products: TestSubgraph;
const gateways: Gateway[] = [];

beforeAll(async () => {
  products = await startTestSubgraph(PRODUCTS_SDL, productsResolvers);
});
afterAll(async () => {
  killGateways();
  await Promise.all(gateways.map((g) => g.close(100)));
  await products?.stop();
});

async function start(overrides: Record<string, unknown>, lines: Line[] = []): Promise<string> {
  const config = loadConfig({
    base: {
      server: { port: 0, host: '127.0.0.1' },
      subgraphs: [{ name: 'products', replicas: [products.url], schemaFile: sdlFile }],
      telemetry: { accessLog: false },
      ...overrides,
    },
  });
  const push = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    lines.push({ level, message, fields });
  const gateway = await createGateway({
    config,
    logger: { info: push('info'), warn: push('warn'), error: push('error') },
  });
  gateways.push(gateway);
  const url = await gateway.listen();
  adminOf.set(url, gateway.adminUrl!);
  return url;
}

/** Each gateway's admin listener, by its GraphQL URL. */
const adminOf = new Map<string, string>();

// Anonymous budget of 2: two queries pass, the third is refused.
const BUDGET = {
  plans: { anonymous: { capacity: 2, restoreRate: 0.001 }, free: { capacity: 2, restoreRate: 0.001 } },
};
const spend = async (url: string, headers: Record<string, string>) => {
  const statuses: number[] = [];
  for (let i = 0; i < 3; i++) statuses.push((await gql(url, QUERY, { headers })).status);
  return statuses;
};

describe('client address through trusted proxies', () => {
  it('gives two anonymous callers behind one trusted proxy a budget each', async () => {
    const url = await start({
      server: { port: 0, host: '127.0.0.1', trustedProxies: ['loopback'] },
      ratelimit: BUDGET,
    });
    expect(await spend(url, { 'x-forwarded-for': '198.51.100.1' })).toEqual([200, 200, 429]);
    // another client behind the same proxy: a full budget of its own
    expect(await spend(url, { 'x-forwarded-for': '198.51.100.2' })).toEqual([200, 200, 429]);
    // a spoofed leftmost entry does not move the first client to a fresh bucket
    const spoofed = await gql(url, QUERY, { headers: { 'x-forwarded-for': '6.6.6.6, 198.51.100.1' } });
    expect(spoofed.status).toBe(429);
  });

  it('an untrusted caller cannot pick its bucket with a forged X-Forwarded-For', async () => {
    const url = await start({
      server: { port: 0, host: '127.0.0.1', trustedProxies: ['10.0.0.0/8'] },
      ratelimit: BUDGET,
    });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++)
      statuses.push(
        (await gql(url, QUERY, { headers: { 'x-forwarded-for': `198.51.100.${i + 10}` } })).status,
      );
    // one bucket (the socket's address), whatever the header claims
    expect(statuses).toEqual([200, 200, 429, 429]);
  });

  it('Forwarded (RFC 7239) when configured, and X-Forwarded-For is then ignored', async () => {
    const url = await start({
      server: { port: 0, host: '127.0.0.1', trustedProxies: ['127.0.0.1'], clientAddressHeader: 'forwarded' },
      ratelimit: BUDGET,
    });
    expect(await spend(url, { forwarded: 'for="[2001:db8::1]:4711"' })).toEqual([200, 200, 429]);
    expect(await spend(url, { forwarded: 'for=6.6.6.6, for=2001:db8::2' })).toEqual([200, 200, 429]);
    // an X-Forwarded-For does not open a fresh bucket: the proxy's own address is the client here
    const xff = await spend(url, { 'x-forwarded-for': '198.51.100.77' });
    expect(await spend(url, { 'x-forwarded-for': '198.51.100.78' })).toEqual([429, 429, 429]);
    expect(xff).toEqual([200, 200, 429]);
  });

  it("subscriptions' callers are the client behind the proxy too (WebSocket upgrade, SSE)", async () => {
    const clientAddress = createClientAddressResolver({ trustedProxies: ['loopback'] });
    const h = await serve({ clientAddress }, { clientAddress });
    try {
      const ws = createClient({
        url: `ws://${h.url}`,
        webSocketImpl: class extends WebSocket {
          constructor(url: string, protocols?: string | string[]) {
            super(url, protocols, { headers: { 'x-forwarded-for': '6.6.6.6, 198.51.100.21' } });
          }
        },
        retryAttempts: 0,
      });
      for await (const _ of ws.iterate({ query: SUB, variables: { n: 1, tag: 'ws' } })) void _;
      await ws.dispose();
      const sse = createSseClient({
        url: `http://${h.url}`,
        headers: { 'x-forwarded-for': '198.51.100.22' },
        retryAttempts: 0,
      });
      for await (const _ of sse.iterate({ query: SUB, variables: { n: 1, tag: 'sse' } })) void _;
      sse.dispose();
      expect(h.gateway.callers.map((c) => c.remoteAddress)).toEqual(['198.51.100.21', '198.51.100.22']);
    } finally {
      await closeHarnesses();
    }
  });

  it('refuses a bad trustedProxies entry at load, naming it', () => {
    expect(() => loadConfig({ base: { server: { trustedProxies: ['10.0.0.0/8', '10.0.0.0/40'] } } })).toThrow(
      /server\.trustedProxies\.1.*prefix length/s,
    );
  });
});

describe('credential stuffing', () => {
  it('3,000 wrong keys from one address: most get 429 before any lookup, logs stay bounded, a valid key elsewhere keeps 200', {
    timeout: 60_000,
  }, async () => {
    const keyFile = `${files.dir}/api-keys.json`;
    const manager = createApiKeyManager({
      store: await createFileApiKeyStore({ path: keyFile, watch: false }),
    });
    const { key } = await manager.createApiKey({ name: 'good', plan: 'free' });
    await manager.close();
    const lines: Line[] = [];
    const url = await start(
      {
        server: { port: 0, host: '127.0.0.1', trustedProxies: ['loopback'] },
        auth: { apiKeys: { file: keyFile }, failureLog: { linesPerWindow: 10, windowMs: 60_000 } },
        ratelimit: {
          plans: {
            anonymous: { capacity: 1e9, restoreRate: 1e9 },
            free: { capacity: 1e9, restoreRate: 1e9 },
          },
        },
      },
      lines,
    );
    const attacker = { 'x-forwarded-for': '203.0.113.66' };
    // well-formed keys that no record has: each one is looked up (reason unknown_api_key)
    const wrongKey = (i: number) => `${key.slice(0, -6)}${String(i).padStart(6, 'x')}`;
    const counts: Record<number, number> = {};
    let retryAfter: string | null = null;
    let next = 0;
    const TOTAL = 3000;
    const goodStatuses: number[] = [];
    const worker = async () => {
      while (next < TOTAL) {
        const i = next++;
        const res = await gql(url, QUERY, { headers: { ...attacker, 'x-api-key': wrongKey(i) } });
        counts[res.status] = (counts[res.status] ?? 0) + 1;
        if (res.status === 429) {
          retryAfter ??= res.headers.get('retry-after');
          expect(res.body.errors?.[0]?.extensions).toMatchObject({
            code: 'RATE_LIMITED',
            reason: 'auth_failures',
          });
        }
        // a valid key from another address, interleaved throughout
        if (i % 100 === 0)
          goodStatuses.push(
            (await gql(url, QUERY, { headers: { 'x-forwarded-for': '198.51.100.5', 'x-api-key': key } }))
              .status,
          );
      }
    };
    const t0 = performance.now();
    await Promise.all(Array.from({ length: 10 }, worker));
    const seconds = (performance.now() - t0) / 1000;
    console.log(
      `credential stuffing: ${TOTAL} wrong keys in ${seconds.toFixed(1)} s: ${counts[401] ?? 0} × 401, ${counts[429] ?? 0} × 429; ` +
        `${goodStatuses.length} valid-key requests from another address all ${[...new Set(goodStatuses)].join('/')}; ` +
        `${lines.filter((l) => l.message.startsWith('authentication refus')).length} log lines`,
    );
    // 20 in a burst, 1/s back, plus the attempts in flight when the bucket emptied (10 workers)
    expect(counts[401] ?? 0).toBeLessThanOrEqual(20 + 10 + Math.ceil(seconds) + 1);
    expect(counts[429] ?? 0).toBeGreaterThan(TOTAL * 0.9);
    expect(Object.keys(counts).sort()).toEqual(['401', '429']);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(new Set(goodStatuses)).toEqual(new Set([200]));
    // refused before the lookup: even the valid key is 429 from the throttled address
    const valid = await gql(url, QUERY, { headers: { ...attacker, 'x-api-key': key } });
    expect(valid.status).toBe(429);
    // the same address without a credential is anonymous, not throttled
    expect((await gql(url, QUERY, { headers: attacker })).status).toBe(200);
    const refusals = lines.filter((l) => l.message === 'authentication refused');
    expect(refusals.length).toBe(10);
    expect(refusals[0]?.fields).toMatchObject({ reason: 'unknown_api_key', client: '203.0.113.66' });

    const metrics = await (await fetch(`${adminOf.get(url)}/metrics`)).text();
    const failures = Number(
      /^gateway_auth_failures_total\{reason="unknown_api_key"\} (\d+)$/m.exec(metrics)?.[1],
    );
    const throttled = Number(/^gateway_auth_throttled_total (\d+)$/m.exec(metrics)?.[1]);
    expect(failures).toBe(counts[401]);
    expect(throttled).toBe((counts[429] ?? 0) + 1);
  });
});

interface Recorder {
  url: string;
  headers: IncomingHttpHeaders[];
  close(): Promise<void>;
}

/** A products subgraph that records the headers of each operation (not the pool's probes). */
async function startRecorder(): Promise<Recorder> {
  const apollo = new ApolloServer({
    schema: buildSubgraphSchema([{ typeDefs: parse(PRODUCTS_SDL), resolvers: productsResolvers }]),
    plugins: [ApolloServerPluginInlineTraceDisabled()],
  });
  await apollo.start();
  const headers: IncomingHttpHeaders[] = [];
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { query?: string };
    if (body.query?.includes('topProducts')) headers.push(req.headers);
    const h = new HeaderMap();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') h.set(k, v);
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method ?? 'POST', headers: h, search: '', body },
      context: async () => ({}),
    });
    for (const [k, v] of response.headers) res.setHeader(k, v);
    res.statusCode = response.status ?? 200;
    res.end(response.body.kind === 'complete' ? response.body.string : '');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    headers,
    async close() {
      server.closeAllConnections();
      server.close();
      await apollo.stop();
    },
  };
}

describe('baggage', () => {
  // The gateway as its own process, so the OpenTelemetry SDK and its propagators run as in production.
  let recorder: Recorder;
  beforeAll(async () => {
    recorder = await startRecorder();
  });
  afterAll(async () => {
    await recorder?.close();
  });

  const run = async (allowKeys: string[]) => {
    const config = files.write(
      `gateway-${allowKeys.length}.yaml`,
      [
        'subgraphs:',
        '  - name: products',
        `    schemaFile: ${sdlFile}`,
        `    replicas: [${recorder.url}]`,
        'pool: { healthCheck: { intervalMs: 0 } }',
        `telemetry: { accessLog: false, baggage: { allowKeys: [${allowKeys.join(', ')}] } }`,
      ].join('\n'),
    );
    const url = await spawnGateway(['--config', config, '--port', '0', '--host', '127.0.0.1'], {
      // no collector: spans are dropped, the propagators still run
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
    }).ready;
    recorder.headers.length = 0;
    const res = await gql(url, QUERY, {
      headers: {
        baggage: 'userId=attacker,role=admin,tenant=acme;p=1',
        traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`,
      },
    });
    expect(res.status).toBe(200);
    expect(recorder.headers).toHaveLength(1);
    return recorder.headers[0]!;
  };

  it('drops the client baggage before subgraphs by default, while the trace context goes on', {
    timeout: 30_000,
  }, async () => {
    const headers = await run([]);
    expect(headers.baggage).toBeUndefined();
    expect(headers.traceparent).toMatch(/^00-a{32}-/);
  });

  it('with allowKeys [tenant], only tenant reaches the subgraph', { timeout: 30_000 }, async () => {
    const headers = await run(['tenant']);
    expect(headers.baggage).toMatch(/^tenant=acme(;p=1)?$/);
    expect(headers.baggage).not.toMatch(/userId|role|attacker|admin/);
  });
});
