import { writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdmission } from '../src/admission/index.ts';
import { createGateway, createGraphsGateway, type Gateway, loadConfig } from '../src/index.ts';
import { gql, PRODUCTS_SDL, startTestSubgraph, type TestSubgraph, tempFiles } from './helpers.ts';

// Every kind of refusal, provoked over real HTTP, then read back from GET /metrics
// (gateway_http_refusals_total{status,reason}).
let slow: TestSubgraph;
const { dir } = tempFiles('refusals');
const gateways: Gateway[] = [];
const QUERY = '{ topProducts { upc } }';

beforeAll(async () => {
  slow = await startTestSubgraph(PRODUCTS_SDL, {
    Query: {
      topProducts: async () => {
        await new Promise((r) => setTimeout(r, 300));
        return [{ upc: '1', name: 'One', price: 1 }];
      },
    },
  });
  writeFileSync(join(dir, 'p.graphql'), PRODUCTS_SDL);
});
afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close(100)));
  await slow?.stop();
});

async function start(base: Record<string, unknown>, replica = slow.url): Promise<string> {
  const { server, ...rest } = base as { server?: Record<string, unknown> };
  const gateway = await createGateway({
    config: loadConfig({
      base: {
        server: { port: 0, host: '127.0.0.1', ...server },
        ratelimit: { enabled: false },
        subgraphs: [{ name: 'products', replicas: [replica], schemaFile: join(dir, 'p.graphql') }],
        ...rest,
      },
    }),
  });
  gateways.push(gateway);
  const url = await gateway.listen();
  adminOf.set(url, gateway.adminUrl!);
  return url;
}

/** Each gateway's admin listener, by its GraphQL URL. */
const adminOf = new Map<string, string>();

/** `gateway_http_refusals_total` from /metrics (the admin listener), as `"status reason" → count`. */
async function refusals(url: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${adminOf.get(url)}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^gateway_http_refusals_total\{status="(\d+)",reason="([a-z_]+)"\} (\d+)/gm))
    out[`${m[1]} ${m[2]}`] = Number(m[3]);
  return out;
}

const timed = async (url: string) => {
  const t0 = performance.now();
  const res = await gql(url, QUERY);
  return { ...res, ms: performance.now() - t0 };
};

describe('refusals in /metrics', () => {
  it('503 admission and queue_timeout: one runs, one waits its deadline, the rest are refused at once', async () => {
    const url = await start({
      server: { maxConcurrentRequests: 1, admission: { queueTimeoutMs: 100, maxQueue: 1 } },
    });
    expect((await gql(url, QUERY)).status).toBe(200); // warm: plans cached, a connection open
    const results = await Promise.all(Array.from({ length: 5 }, () => timed(url)));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 503, 503, 503, 503]);
    const shed = results.filter((r) => r.status === 503);
    for (const r of shed) {
      expect(r.body.errors?.[0]?.extensions?.code).toBe('OVERLOADED');
      expect(r.headers.get('retry-after')).toBe('1');
    }
    // the waiter was answered after its deadline, and before the subgraph's 300 ms were over
    const slowest = Math.max(...shed.map((r) => r.ms));
    expect(slowest).toBeGreaterThanOrEqual(95);
    expect(slowest).toBeLessThan(results.find((r) => r.status === 200)!.ms);
    expect(await refusals(url)).toMatchObject({ '503 admission': 3, '503 queue_timeout': 1 });
    // health and metrics are never held by admission
    const busy = Promise.all([gql(url, QUERY), gql(url, QUERY)]);
    const live = await fetch(url.replace('/graphql', '/health/live'));
    expect(live.status).toBe(200);
    await busy;
  });

  it('503 connections: a request on a connection over server.maxConnections gets 503 and Connection: close', async () => {
    const url = await start({ server: { maxConnections: 2 } });
    const { port } = new URL(url);
    // two connections, held open
    const held = [connect(Number(port), '127.0.0.1'), connect(Number(port), '127.0.0.1')];
    await Promise.all(held.map((s) => new Promise((r) => s.once('connect', r))));
    await new Promise((r) => setTimeout(r, 50));
    const t0 = performance.now();
    const res = await new Promise<{ status: number; connection: string | undefined; body: string }>(
      (resolve, reject) => {
        const req = request(
          url,
          { method: 'POST', headers: { 'content-type': 'application/json' }, agent: false },
          (r) => {
            let body = '';
            r.on('data', (c) => (body += c));
            r.on('end', () => resolve({ status: r.statusCode ?? 0, connection: r.headers.connection, body }));
          },
        );
        req.on('error', reject);
        req.end(JSON.stringify({ query: QUERY }));
      },
    );
    expect(res.status).toBe(503);
    expect(res.connection).toBe('close');
    expect(JSON.parse(res.body).errors[0].extensions.code).toBe('OVERLOADED');
    expect(performance.now() - t0).toBeLessThan(250); // not the subgraph's 300 ms: refused before any work
    for (const s of held) s.destroy();
    await new Promise((r) => setTimeout(r, 50));
    expect((await gql(url, QUERY)).status).toBe(200); // room again once they closed
    expect((await refusals(url))['503 connections']).toBe(1);
  });

  it('413, 431, 429, 401 and 503 no_replica, each counted with its reason', async () => {
    const url = await start({
      server: { maxBodyBytes: 1_000 },
      ratelimit: {
        enabled: true,
        plans: { anonymous: { capacity: 1, restoreRate: 0.001 }, free: { capacity: 1, restoreRate: 0.001 } },
      },
    });
    const big = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ topProducts { upc } } # ${'x'.repeat(2_000)}` }),
    });
    expect(big.status).toBe(413);
    const huge = await fetch(url, { headers: { 'x-big': 'y'.repeat(20_000) } }).catch(() => undefined);
    expect(huge?.status ?? 431).toBe(431);
    expect((await gql(url, QUERY)).status).toBe(200);
    const limited = await gql(url, QUERY);
    expect(limited.status).toBe(429);
    const strict = await start({ auth: { anonymous: { enabled: false } } });
    expect((await gql(strict, QUERY)).status).toBe(401);
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const deadUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/graphql`;
    await new Promise((r) => closed.close(r));
    const dead = await start({ pool: { retry: { maxAttempts: 1 } } }, deadUrl);
    expect((await gql(dead, QUERY)).status).toBe(503);

    expect(await refusals(url)).toMatchObject({
      '413 body_size': 1,
      '431 header_size': 1,
      '429 rate_limit': 1,
    });
    expect(await refusals(strict)).toMatchObject({ '401 unauthenticated': 1 });
    expect(await refusals(dead)).toMatchObject({ '503 no_replica': 1 });
  });

  it('graphs on paths share one admission: a request on one graph takes the slot the other wanted', async () => {
    const graph = (path: string) => ({
      path,
      subgraphs: [{ name: 'products', replicas: [slow.url], schemaFile: join(dir, 'p.graphql') }],
    });
    const gateway = await createGraphsGateway({
      config: loadConfig({
        base: {
          server: {
            port: 0,
            host: '127.0.0.1',
            maxConcurrentRequests: 1,
            admission: { enabled: false, queueTimeoutMs: 0 },
          },
          ratelimit: { enabled: false },
          graphs: [graph('/graphql'), graph('/b/graphql')],
        },
      }),
    });
    try {
      const url = await gateway.listen();
      const [a, b] = await Promise.all([gql(url, QUERY), gql(url.replace('/graphql', '/b/graphql'), QUERY)]);
      expect([a.status, b.status].sort()).toEqual([200, 503]);
      const text = await (await fetch(`${gateway.adminUrl}/metrics`)).text();
      // counted once, on the process's series (no graph label)
      expect(text).toMatch(/^gateway_http_refusals_total\{status="503",reason="admission"\} 1$/m);
      expect(text).toMatch(/^gateway_admission_limit 1$/m);
    } finally {
      await gateway.close(100);
    }
  });

  it("408: node's own request timeout is answered as node would, and counted", async () => {
    const admission = createAdmission(
      loadConfig({ base: { subgraphs: [{ name: 'x', replicas: ['http://127.0.0.1:1/graphql'] }] } }).server,
    );
    const server = createServer(
      { headersTimeout: 200, requestTimeout: 300, connectionsCheckingInterval: 50 },
      (_q, s) => s.end('ok'),
    );
    admission.guard(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
      let answer = '';
      socket.on('data', (c) => (answer += c));
      socket.write('GET / HTTP/1.1\r\nHost: x\r\n'); // headers never finished
      await new Promise((r) => socket.once('close', r));
      expect(answer).toMatch(/^HTTP\/1\.1 408 Request Timeout/);
      expect(admission.snapshot().refusals).toContainEqual({
        status: 408,
        reason: 'request_timeout',
        count: 1,
      });
    } finally {
      admission.stop();
      await new Promise((r) => server.close(r));
    }
  });
});
