// @defer through the whole gateway, with each planner: multipart/mixed with the initial part first and
// the deferred parts after it (read with meros, the multipart parser Relay and urql use), the same data
// merged for a JSON-only client, and the deferred subgraph's slowness not holding back the initial part.
import { type IncomingMessage, request } from 'node:http';
import { meros } from 'meros';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type Gateway, loadConfig } from '../src/index.ts';
import {
  PRODUCTS_SDL,
  productsResolvers,
  startTestSubgraph,
  type TestSubgraph,
  tempFiles,
} from './helpers.ts';

const SLOW_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
  type Product @key(fields: "upc") { upc: String! reviews: [Review!] }
  type Review { id: ID! body: String! }
`;
const DELAY_MS = 400;
const slowResolvers = {
  Product: {
    __resolveReference: (ref: { upc: string }) => ref,
    reviews: async (p: { upc: string }) => {
      await new Promise((r) => setTimeout(r, DELAY_MS));
      return [{ id: `r${p.upc}`, body: `Review of ${p.upc}` }];
    },
  },
};

const QUERY = `query Deferred { topProducts(first: 2) { upc name ... @defer(label: "reviews") { reviews { body } } } }`;
const FULL = {
  topProducts: [1, 2].map((i) => ({
    upc: String(i),
    name: `Product ${i}`,
    reviews: [{ body: `Review of ${i}` }],
  })),
};

function post(url: string, body: unknown, accept: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', accept } });
    req.once('response', resolve).once('error', reject);
    req.end(JSON.stringify(body));
  });
}

const files = tempFiles('defer');

describe.each(['hive', 'apollo'] as const)('@defer through the gateway (%s planner)', (planner) => {
  let products: TestSubgraph;
  let reviews: TestSubgraph;
  let gateway: Gateway;
  let url: string;

  beforeAll(async () => {
    [products, reviews] = await Promise.all([
      startTestSubgraph(PRODUCTS_SDL, productsResolvers),
      startTestSubgraph(SLOW_SDL, slowResolvers),
    ]);
    gateway = await createGateway({
      config: loadConfig({
        env: {},
        base: {
          server: { port: 0, host: '127.0.0.1' },
          supergraph: { planner },
          ratelimit: { enabled: false },
          subgraphs: [
            {
              name: 'products',
              replicas: [products.url],
              schemaFile: files.write('p.graphql', PRODUCTS_SDL),
            },
            { name: 'reviews', replicas: [reviews.url], schemaFile: files.write('r.graphql', SLOW_SDL) },
          ],
        },
      }),
    });
    url = await gateway.listen();
  });
  afterAll(async () => {
    await gateway?.close(100);
    await Promise.all([products, reviews].map((s) => s?.stop()));
  });

  it('answers multipart/mixed: the initial part first, the deferred part after it', async () => {
    const t0 = Date.now();
    const res = await post(url, { query: QUERY }, 'multipart/mixed;deferSpec=20220824,application/json');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('multipart/mixed');
    const parts = await meros<Record<string, unknown>>(res);
    if (!(Symbol.asyncIterator in parts)) throw new Error('not a multipart response');
    const received: { body: Record<string, unknown>; at: number }[] = [];
    for await (const part of parts)
      received.push({ body: part.body as Record<string, unknown>, at: Date.now() - t0 });
    const initial = { topProducts: FULL.topProducts.map(({ upc, name }) => ({ upc, name })) };
    expect(received[0]!.body).toMatchObject({ data: initial, hasNext: true });
    const incremental = received.slice(1).flatMap((p) => (p.body.incremental as unknown[] | undefined) ?? []);
    expect(incremental).toEqual(
      [0, 1].map((i) => ({
        data: { reviews: FULL.topProducts[i]!.reviews },
        path: ['topProducts', i],
        label: 'reviews',
      })),
    );
    expect(received.at(-1)!.body.hasNext).toBe(false);
    if (planner === 'apollo') {
      // Apollo's plan has a Defer node: the initial part does not wait for the slow reviews subgraph
      expect(received[0]!.at).toBeLessThan(DELAY_MS);
      expect(received.at(-1)!.at).toBeGreaterThanOrEqual(DELAY_MS);
    }
  });

  it('gives a JSON-only client the whole result at once', async () => {
    const res = await post(url, { query: QUERY }, 'application/json');
    expect(res.statusCode).toBe(200);
    let text = '';
    for await (const chunk of res) text += chunk;
    const body = JSON.parse(text) as { data: unknown; errors?: unknown; hasNext?: unknown };
    expect(body.data).toEqual(FULL);
    expect(body.errors).toBeUndefined();
    expect(body.hasNext).toBeUndefined();
  });

  it('@defer(if: false) is not deferred', async () => {
    const query = QUERY.replace('@defer(label: "reviews")', '@defer(if: false)');
    const res = await post(url, { query }, 'multipart/mixed;deferSpec=20220824,application/json');
    let text = '';
    for await (const chunk of res) text += chunk;
    expect(res.headers['content-type']).toContain('application/json');
    expect((JSON.parse(text) as { data: unknown }).data).toEqual(FULL);
  });
});
