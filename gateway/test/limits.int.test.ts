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
        server: { port: 0, host: '127.0.0.1' },
        ratelimit: { enabled: false },
        limits: { maxDepth: 2, maxAliases: 2, maxDirectives: 2, maxRootFields: 2, maxTokens: 200 },
        subgraphs: [
          { name: 'products', replicas: [products.url], schemaFile: join(dir, 'p.graphql') },
          { name: 'reviews', replicas: [reviews.url], schemaFile: join(dir, 'r.graphql') },
        ],
      },
    }),
  });
  url = await gateway.listen();
});
afterAll(async () => {
  await gateway?.close(100);
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

  it('refuses a 1000-level query, 10 000 aliases and a fragment cycle fast', async () => {
    const nested = `{ ${'topProducts { '.repeat(1000)}upc${' }'.repeat(1000)} }`;
    const aliases = `{ ${Array.from({ length: 10_000 }, (_, i) => `a${i}: topProducts { upc }`).join(' ')} }`;
    const cycle =
      'query { topProducts { ...A } } fragment A on Product { ...B } fragment B on Product { ...A }';
    for (const [query, code] of [
      [nested, 'BAD_REQUEST'],
      [aliases, 'BAD_REQUEST'],
      [cycle, 'GRAPHQL_VALIDATION_FAILED'],
    ] as const) {
      const t0 = Date.now();
      const res = await gql(url, query);
      expect(res.status).toBe(400);
      expect(res.body.errors?.[0]?.extensions?.code, res.body.errors?.[0]?.message).toBe(code);
      expect(Date.now() - t0).toBeLessThan(2_000);
    }
    expect((await gql(url, '{ topProducts { upc } }')).status).toBe(200);
  });
});
