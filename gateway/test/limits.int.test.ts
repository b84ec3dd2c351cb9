import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type Gateway, loadConfig } from '../src/index.ts';
import {
  gql,
  PRODUCTS_SDL,
  productsResolvers,
  REVIEWS_SDL,
  reviewsResolvers,
  startTestSubgraph,
  type TestSubgraph,
} from './helpers.ts';

// Structural limits through the gateway: just under passes, just over gets 400 BAD_REQUEST naming the
// limit, before any subgraph is called.
let products: TestSubgraph;
let reviews: TestSubgraph;
let gateway: Gateway;
let url: string;
// A second gateway on the built-in (production) limits, for the hostile inputs and batching off.
let defaults: Gateway;
let defaultsUrl: string;

beforeAll(async () => {
  [products, reviews] = await Promise.all([
    startTestSubgraph(PRODUCTS_SDL, productsResolvers),
    startTestSubgraph(REVIEWS_SDL, reviewsResolvers),
  ]);
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-limits-'));
  writeFileSync(join(dir, 'p.graphql'), PRODUCTS_SDL);
  writeFileSync(join(dir, 'r.graphql'), REVIEWS_SDL);
  gateway = await createGateway({
    config: loadConfig({
      base: {
        ratelimit: { enabled: false },
        server: { port: 0, host: '127.0.0.1', batching: true },
        limits: {
          maxDepth: 2,
          maxAliases: 2,
          maxDirectives: 2,
          maxRootFields: 2,
          maxTokens: 200,
          maxBatchSize: 2,
        },
        subgraphs: [
          { name: 'products', replicas: [products.url], schemaFile: join(dir, 'p.graphql') },
          { name: 'reviews', replicas: [reviews.url], schemaFile: join(dir, 'r.graphql') },
        ],
      },
    }),
  });
  url = await gateway.listen();
  defaults = await createGateway({
    config: loadConfig({
      base: {
        server: { port: 0, host: '127.0.0.1' },
        ratelimit: { enabled: false },
        subgraphs: [
          { name: 'products', replicas: [products.url], schemaFile: join(dir, 'p.graphql') },
          { name: 'reviews', replicas: [reviews.url], schemaFile: join(dir, 'r.graphql') },
        ],
      },
    }),
  });
  defaultsUrl = await defaults.listen();
});
afterAll(async () => {
  await gateway?.close(100);
  await defaults?.close(100);
  await Promise.all([products?.stop(), reviews?.stop()]);
});

const cases: [string, string, string][] = [
  ['depth', '{ topProducts { upc } }', '{ topProducts { reviews { id } } }'],
  [
    'depth',
    '{ topProducts { upc } }',
    'query { ...F } fragment F on Query { topProducts { reviews { id } } }',
  ],
  ['aliases', '{ topProducts { a: upc b: upc } }', '{ topProducts { a: upc b: upc c: upc } }'],
  [
    'directives',
    '{ topProducts { upc @skip(if: false) name @include(if: true) } }',
    '{ topProducts { upc @skip(if: false) name @include(if: true) price @include(if: true) } }',
  ],
  ['rootFields', '{ topProducts { upc } __typename }', '{ topProducts { upc } __typename t: __typename }'],
  // 10 tokens around n × `upc`: 200 is the limit
  [
    'tokens',
    `{ topProducts(first: 1) { ${'upc '.repeat(190)}} }`,
    `{ topProducts(first: 1) { ${'upc '.repeat(191)}} }`,
  ],
];

describe('operation limits', () => {
  it.each(cases)(
    '%s: just under passes, just over is refused naming the limit',
    async (limit, under, over) => {
      const ok = await gql(url, under);
      expect(ok.status, JSON.stringify(ok.body)).toBe(200);
      const before = products.received.length;
      const refused = await gql(url, over);
      expect(refused.status).toBe(400);
      expect(refused.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_REQUEST', limit });
      expect(products.received.length).toBe(before);
    },
  );

  it('body size: a body of exactly server.maxBodyBytes passes, one byte more gets 413 naming the limit', async () => {
    const max = 1_000_000; // the default
    const sized = (bytes: number) => {
      const base = JSON.stringify({ query: '{ topProducts(first: 1) { upc } } #' });
      return JSON.stringify({
        query: `{ topProducts(first: 1) { upc } } #${'x'.repeat(bytes - base.length)}`,
      });
    };
    expect(Buffer.byteLength(sized(max))).toBe(max);
    const under = await post(url, sized(max));
    expect(under.status, JSON.stringify(under.body)).toBe(200);
    const over = await post(url, sized(max + 1));
    expect(over.status).toBe(413);
    expect(over.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_REQUEST', limit: 'bodySize', max });
  });
});

describe('batching', () => {
  const op = { query: '{ topProducts(first: 1) { upc } }' };
  it('is off by default: a JSON array body gets 400 BAD_REQUEST saying so', async () => {
    const res = await post(defaultsUrl, JSON.stringify([op]));
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_REQUEST', limit: 'batchSize' });
    expect(res.body.errors?.[0]?.message).toMatch(/Batched requests .* are turned off \(server\.batching\)/);
  });

  it('when on, limits.maxBatchSize operations pass and one more gets 400 naming the limit', async () => {
    const before = products.received.length;
    const ok = await post(url, JSON.stringify([op, { query: '{ topProducts(first: 2) { name } }' }]));
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject([
      { data: { topProducts: [{ upc: '1' }] } },
      { data: { topProducts: [{ name: 'Product 1' }, { name: 'Product 2' }] } },
    ]);
    const refused = await post(url, JSON.stringify([op, op, op]));
    expect(refused.status).toBe(400);
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_REQUEST',
      limit: 'batchSize',
      actual: 3,
      max: 2,
    });
    expect(products.received.length).toBe(before + 2);
  });

  it('applies every operation limit to each operation of a batch', async () => {
    const res = await post(url, JSON.stringify([op, { query: '{ topProducts { reviews { id } } }' }]));
    const [first, second] = res.body as unknown as { data?: unknown; errors?: { extensions: unknown }[] }[];
    expect(first?.data).toEqual({ topProducts: [{ upc: '1' }] });
    expect(second?.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_REQUEST', limit: 'depth' });
  });
});

describe('hostile inputs on the built-in limits', () => {
  // Stated bounds (issue 9), generous enough for a loaded 2-core machine: each document refused in < 1 s,
  // each 10 MB body in < 2 s (most of it is the upload itself, which the gateway reads and drops), and the
  // heap grows by < 100 MB over 10 rounds of all of them (no per-request accumulation).
  const nested = `{ ${'topProducts { '.repeat(1000)}upc${' }'.repeat(1000)} }`;
  const aliases = `{ ${Array.from({ length: 10_000 }, (_, i) => `a${i}: topProducts { upc }`).join(' ')} }`;
  const cycle =
    'query { topProducts { ...A } } fragment A on Product { ...B } fragment B on Product { ...A }';
  const tenMegabytes = JSON.stringify({ query: `{ topProducts { upc } } #${'x'.repeat(10 * 1024 * 1024)}` });
  type Input = [string, () => Promise<{ status: number; body: Body }>, number, string, string?];
  const inputs: Input[] = [
    ['a 10 MB body', () => post(defaultsUrl, tenMegabytes), 413, 'BAD_REQUEST', 'bodySize'],
    [
      'a 10 MB body, chunked (no content-length)',
      () => postChunked(defaultsUrl, tenMegabytes),
      413,
      'BAD_REQUEST',
      'bodySize',
    ],
    ['a 1000-level nested query', () => gql(defaultsUrl, nested), 400, 'BAD_REQUEST', 'depth'],
    ['10 000 aliases', () => gql(defaultsUrl, aliases), 400, 'BAD_REQUEST', 'tokens'],
    ['a fragment cycle', () => gql(defaultsUrl, cycle), 400, 'GRAPHQL_VALIDATION_FAILED'],
  ];

  it('refuses a 10 MB body, a 1000-level query, 10 000 aliases and a fragment cycle fast, with memory bounded', async () => {
    const before = products.received.length;
    const worst = new Map<string, number>();
    const heapAtStart = process.memoryUsage().heapUsed;
    let heapPeak = heapAtStart;
    const sampler = setInterval(() => {
      heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
    }, 5);
    try {
      for (let round = 0; round < 10; round++) {
        for (const [name, send, status, code, limit] of inputs) {
          const t0 = performance.now();
          const res = await send();
          const ms = performance.now() - t0;
          worst.set(name, Math.max(worst.get(name) ?? 0, ms));
          expect(res.status, name).toBe(status);
          expect(res.body.errors?.[0]?.extensions?.code, res.body.errors?.[0]?.message).toBe(code);
          if (limit) expect(res.body.errors?.[0]?.extensions?.limit, name).toBe(limit);
          expect(ms, name).toBeLessThan(name.includes('10 MB') ? 2_000 : 1_000);
        }
      }
    } finally {
      clearInterval(sampler);
    }
    const growthMb = (Math.max(heapPeak, process.memoryUsage().heapUsed) - heapAtStart) / 2 ** 20;
    console.info(
      `hostile inputs, worst of 10 rounds: ${[...worst].map(([n, ms]) => `${n} ${ms.toFixed(0)} ms`).join(', ')}; heap peak growth ${growthMb.toFixed(1)} MB`,
    );
    expect(growthMb).toBeLessThan(100);
    expect(products.received.length).toBe(before); // nothing reached a subgraph
    expect((await gql(defaultsUrl, '{ topProducts(first: 1) { upc } }')).body.data).toEqual({
      topProducts: [{ upc: '1' }],
    });
  });
});

type Body = Awaited<ReturnType<typeof gql>>['body'];

async function post(target: string, body: string): Promise<{ status: number; body: Body }> {
  const res = await fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: res.status, body: (await res.json()) as Body };
}

async function postChunked(target: string, body: string): Promise<{ status: number; body: Body }> {
  const bytes = Buffer.from(body);
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < bytes.length; i += 64 * 1024) controller.enqueue(bytes.subarray(i, i + 64 * 1024));
      controller.close();
    },
  });
  const res = await fetch(target, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: stream,
    duplex: 'half',
  } as RequestInit);
  return { status: res.status, body: (await res.json()) as Body };
}
