import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type Gateway, loadConfig, SupergraphError } from '../src/index.ts';
import {
  gql,
  PRODUCTS_SDL,
  productsResolvers,
  REVIEWS_SDL,
  reviewsResolvers,
  startTestSubgraph,
  type TestSubgraph,
  tempFiles,
} from './helpers.ts';

const files = tempFiles('gw');
const sdlFile = (name: string, sdl: string) => files.write(`${name}.graphql`, sdl);

describe('gateway over replica pools', () => {
  let p1: TestSubgraph;
  let p2: TestSubgraph;
  let r1: TestSubgraph;
  let gateway: Gateway;
  let url: string;
  // A replica URL nothing listens on: the gateway must start and say which replica is down.
  const dead = 'http://127.0.0.1:9/graphql';

  beforeAll(async () => {
    [p1, p2, r1] = await Promise.all([
      startTestSubgraph(PRODUCTS_SDL, productsResolvers),
      startTestSubgraph(PRODUCTS_SDL, productsResolvers),
      startTestSubgraph(REVIEWS_SDL, reviewsResolvers),
    ]);
    const config = loadConfig({
      base: {
        server: { port: 0, host: '127.0.0.1' },
        ratelimit: { enabled: false },
        subgraphs: [
          { name: 'products', replicas: [p1.url, p2.url], schemaFile: sdlFile('products', PRODUCTS_SDL) },
          // no schemaFile: the gateway asks a live replica for _service { sdl }
          { name: 'reviews', replicas: [dead, r1.url] },
        ],
      },
    });
    gateway = await createGateway({ config });
    url = await gateway.listen();
  });
  afterAll(async () => {
    await gateway?.close(100);
    await Promise.all([p1, p2, r1].map((s) => s?.stop()));
  });

  it('plans across subgraphs and spreads fetches over both replicas', async () => {
    p1.received.length = 0;
    p2.received.length = 0;
    for (let i = 0; i < 6; i++) {
      const { status, body } = await gql(url, '{ topProducts(first: 2) { upc name reviews { body } } }');
      expect(status).toBe(200);
      expect(body.errors).toBeUndefined();
      expect(body.data).toEqual({
        topProducts: [
          { upc: '1', name: 'Product 1', reviews: [{ body: 'Review of 1' }] },
          { upc: '2', name: 'Product 2', reviews: [{ body: 'Review of 2' }] },
        ],
      });
    }
    // every fetch went to one replica or the other, and both got some (the strategy decides the split)
    expect(p1.received.length + p2.received.length).toBe(6);
    expect(p1.received.length).toBeGreaterThan(0);
    expect(p2.received.length).toBeGreaterThan(0);
  });

  it('skips a replica that refuses connections, and readiness names it', async () => {
    const before = r1.received.length;
    const { body } = await gql(url, '{ topProducts(first: 1) { reviews { id } } }');
    expect(body.data).toEqual({ topProducts: [{ reviews: [{ id: 'r1' }] }] });
    expect(r1.received.length).toBe(before + 1);
    const res = await fetch(`${gateway.adminUrl}/health/ready`);
    const report = (await res.json()) as { status: string; down: string[] };
    expect(res.status).toBe(200);
    expect(report.status).toBe('ready');
    expect(report.down).toEqual([`reviews ${dead}`]);
    // the public port says only the state: no replica URL reaches a client
    const pub = await fetch(url.replace('/graphql', '/health/ready'));
    expect(pub.status).toBe(200);
    expect(await pub.json()).toEqual({ status: 'ready' });
  });

  it('answers malformed bodies with 400 BAD_REQUEST and keeps serving', async () => {
    const bad = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"query": ',
    });
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(body.errors[0]!.extensions.code).toBe('BAD_REQUEST');
    expect(body.errors[0]!.message).toMatch(/Malformed JSON body/);

    const notObject = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '[1,2]',
    });
    expect(notObject.status).toBe(400);

    const big = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ topProducts { upc } } #${'x'.repeat(1_100_000)}` }),
    });
    expect(big.status).toBe(413);

    const ok = await gql(url, '{ topProducts(first: 1) { upc } }');
    expect(ok.status).toBe(200);
  });

  it('answers parse and validation errors with 400 and their codes', async () => {
    const parseFail = await gql(url, '{ topProducts(first: 1) { upc }');
    expect(parseFail.status).toBe(400);
    expect(parseFail.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
    const invalid = await gql(url, '{ topProducts { nope } }');
    expect(invalid.status).toBe(400);
    expect(invalid.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const noQuery = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(noQuery.status).toBe(400);
  });

  it('shows the pool at /admin/pool to loopback clients', async () => {
    const res = await fetch(`${gateway.adminUrl}/admin/pool`);
    expect(res.status).toBe(200);
    const view = JSON.stringify(await res.json());
    expect(view).toContain(p1.url);
    expect(view).toContain(dead);
  });

  it('exposes Prometheus metrics whose counters move by the requests made', async () => {
    const scrape = async () => {
      const res = await fetch(`${gateway.adminUrl}/metrics`);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      const values = new Map<string, number>();
      for (const line of (await res.text()).split('\n')) {
        if (!line || line.startsWith('#')) continue;
        const m = /^([a-zA-Z_:][\w:]*(?:\{.*\})?) (\S+)$/.exec(line);
        expect(m, `not Prometheus text: ${line}`).not.toBeNull();
        values.set(m![1]!, Number(m![2]));
      }
      return values;
    };
    const before = await scrape();
    await gql(url, 'query Top { topProducts(first: 1) { upc } }');
    await gql(url, 'query Top { topProducts(first: 2) { upc } }');
    await gql(url, 'query Top { topProducts(first: 1) { nope } }');
    const after = await scrape();
    const delta = (key: string) => (after.get(key) ?? 0) - (before.get(key) ?? 0);
    expect(delta('gateway_requests_total{operation="Top",status="200"}')).toBe(2);
    expect(delta('gateway_requests_total{operation="-",status="400"}')).toBe(1); // not validated: no operation name yet
    expect(delta('gateway_request_duration_seconds_count{operation="Top"}')).toBe(2);
    expect(delta('gateway_cost_estimated_count')).toBe(2);
    expect(
      after.get(`gateway_pool_replica_requests{subgraph="products",replica="${p1.url}"}`),
    ).toBeGreaterThan(0);
    expect(after.has('nodejs_eventloop_lag_seconds')).toBe(true);
  });

  it('serves liveness, a 404 for unknown paths, and the IDE from local files', async () => {
    const base = url.replace('/graphql', '');
    expect((await fetch(`${base}/health/live`)).status).toBe(200);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    const page = await fetch(url, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('/graphql/ide/graphiql.min.js');
    expect(html).not.toMatch(/https?:\/\/(unpkg|cdn|esm\.sh)/);
    for (const asset of [
      'graphiql.min.js',
      'graphiql.min.css',
      'react.production.min.js',
      'react-dom.production.min.js',
    ]) {
      const res = await fetch(`${base}/graphql/ide/${asset}`);
      expect(res.status, asset).toBe(200);
      expect((await res.arrayBuffer()).byteLength, asset).toBeGreaterThan(1000);
    }
  });
  it('keeps /metrics and /admin/* off the public port, on a loopback admin listener', async () => {
    const base = url.replace('/graphql', '');
    for (const path of ['/metrics', '/admin/pool']) {
      const res = await fetch(`${base}${path}`);
      expect(res.status, path).toBe(404);
      const body = (await res.json()) as { error: string };
      expect(body.error).toContain('server.adminPort');
      expect(JSON.stringify(body)).not.toContain(p1.url);
    }
    // the admin listener: loopback (server.adminHost's default), any free port as the public one is 0
    expect(gateway.adminUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(new URL(gateway.adminUrl!).port).not.toBe(new URL(url).port);
    expect((await fetch(`${gateway.adminUrl}/health/live`)).status).toBe(200);
    expect((await fetch(`${gateway.adminUrl}/graphql`)).status).toBe(404);
    expect((await fetch(`${gateway.adminUrl}/metrics`, { method: 'POST' })).status).toBe(405);
  });
});

describe('the admin port', () => {
  it('stops listen() with an error naming server.adminPort when the port is taken', async () => {
    const p = await startTestSubgraph(PRODUCTS_SDL, productsResolvers);
    const config = loadConfig({
      base: {
        server: { port: 0, host: '127.0.0.1' },
        subgraphs: [{ name: 'products', replicas: [p.url], schemaFile: sdlFile('products', PRODUCTS_SDL) }],
      },
    });
    const first = await createGateway({ config });
    await first.listen();
    const taken = Number(new URL(first.adminUrl!).port);
    const second = await createGateway({
      config: loadConfig({ base: { ...config, server: { ...config.server, adminPort: taken } } }),
    });
    try {
      await expect(second.listen()).rejects.toThrow(
        /server\.adminPort: cannot listen on 127\.0\.0\.1:\d+ \(EADDRINUSE\)/,
      );
      // the first one keeps serving
      expect((await fetch(`${first.adminUrl}/health/live`)).status).toBe(200);
    } finally {
      await second.close(0);
      await first.close(100);
      await p.stop();
    }
  });
});

describe('a subgraph with no live replica', () => {
  it('gives partial data with SUBGRAPH_UNAVAILABLE at the path, and 503 when nothing could be fetched', async () => {
    const p = await startTestSubgraph(PRODUCTS_SDL, productsResolvers);
    const config = loadConfig({
      base: {
        server: { port: 0, host: '127.0.0.1' },
        ratelimit: { enabled: false },
        subgraphs: [
          { name: 'products', replicas: [p.url], schemaFile: sdlFile('products', PRODUCTS_SDL) },
          {
            name: 'reviews',
            replicas: ['http://127.0.0.1:9/graphql'],
            schemaFile: sdlFile('reviews', REVIEWS_SDL),
          },
        ],
      },
    });
    const gateway = await createGateway({ config });
    const url = await gateway.listen();
    try {
      const partial = await gql(url, '{ topProducts(first: 1) { upc reviews { id } } }');
      expect(partial.status).toBe(200);
      expect(partial.body.errors?.[0]?.extensions).toMatchObject({
        code: 'SUBGRAPH_UNAVAILABLE',
        serviceName: 'reviews',
      });
      expect(partial.body.errors?.[0]?.path).toEqual(['topProducts', 0]);
      // the gateway stays in its load balancer (it still answers everything but reviews), and says why
      const ready = await fetch(`${gateway.adminUrl}/health/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({
        status: 'degraded',
        subgraphs: { reviews: { ready: false }, products: { ready: true } },
        down: ['reviews http://127.0.0.1:9/graphql'],
      });
    } finally {
      await gateway.close(100);
    }
    // server.readiness: all-subgraphs takes it out instead
    const strict = await createGateway({
      config: loadConfig({ base: { ...config, server: { ...config.server, readiness: 'all-subgraphs' } } }),
    });
    const strictUrl = await strict.listen();
    try {
      const ready = await fetch(`${strict.adminUrl}/health/ready`);
      expect(ready.status).toBe(503);
      expect((await fetch(strictUrl.replace('/graphql', '/health/ready'))).status).toBe(503);
      expect(await ready.json()).toMatchObject({
        status: 'not ready',
        down: ['reviews http://127.0.0.1:9/graphql'],
      });
    } finally {
      await strict.close(100);
      await p.stop();
    }
    // every replica of the only subgraph a query needs is down: nothing could be fetched → 503
    const config2 = loadConfig({
      base: {
        server: { port: 0, host: '127.0.0.1' },
        ratelimit: { enabled: false },
        subgraphs: [
          {
            name: 'products',
            replicas: ['http://127.0.0.1:9/graphql'],
            schemaFile: sdlFile('products', PRODUCTS_SDL),
          },
        ],
      },
    });
    const g2 = await createGateway({ config: config2 });
    const url2 = await g2.listen();
    try {
      const down = await gql(url2, '{ topProducts { upc } }');
      expect(down.status).toBe(503);
      expect(down.body.errors?.[0]?.extensions?.code).toBe('SUBGRAPH_UNAVAILABLE');
    } finally {
      await g2.close(100);
    }
  });
});

describe('admin token', () => {
  it('refuses /admin/pool without the configured bearer token', async () => {
    const p = await startTestSubgraph(PRODUCTS_SDL, productsResolvers);
    const config = loadConfig({
      base: {
        server: { port: 0, host: '127.0.0.1', adminToken: 'a-long-admin-token-0123' },
        subgraphs: [{ name: 'products', replicas: [p.url], schemaFile: sdlFile('products', PRODUCTS_SDL) }],
      },
    });
    const gateway = await createGateway({ config });
    await gateway.listen();
    const url = `${gateway.adminUrl}/admin/pool`;
    try {
      expect((await fetch(url)).status).toBe(403);
      expect((await fetch(url, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(
        403,
      );
      expect(
        (await fetch(url, { headers: { authorization: 'Bearer a-long-admin-token-0123' } })).status,
      ).toBe(200);
    } finally {
      await gateway.close(100);
      await p.stop();
    }
  });
});

describe('composition', () => {
  it('stops start-up with the composition error named', async () => {
    const clash = `
      extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
      type Product @key(fields: "upc") { upc: String! name: Int! }
    `;
    const config = loadConfig({
      base: {
        subgraphs: [
          {
            name: 'products',
            replicas: ['http://127.0.0.1:9/graphql'],
            schemaFile: sdlFile('products', PRODUCTS_SDL),
          },
          { name: 'other', replicas: ['http://127.0.0.1:9/graphql'], schemaFile: sdlFile('other', clash) },
        ],
      },
    });
    const error = await createGateway({ config }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SupergraphError);
    expect((error as SupergraphError).code).toBe('SUPERGRAPH_COMPOSITION_FAILED');
    expect((error as SupergraphError).message).toMatch(/Product\.name/);
  });
});
