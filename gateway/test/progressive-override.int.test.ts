import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type Gateway, loadConfig } from '../src/index.ts';
import { gql, pooled, startTestSubgraph, type TestSubgraph } from './helpers.ts';

// Progressive @override (Federation 2.7) on both planners: `price` moves from `old` to `new` for
// percent(50) of the requests, drawn per request; `tag` moves only when a routing rule turns the custom
// label `beta` on (here: the request has `x-beta: 1`).
const OLD_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
  type Product @key(fields: "id") { id: ID! price: Int! tag: String! }
  type Query { products: [Product!]! }
`;
const NEW_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@override"])
  type Product @key(fields: "id") {
    id: ID!
    price: Int! @override(from: "old", label: "percent(50)")
    tag: String! @override(from: "old", label: "beta")
  }
`;
const ids = ['1', '2'];
type Ref = { id: string };

let oldSg: TestSubgraph;
let newSg: TestSubgraph;
beforeAll(async () => {
  [oldSg, newSg] = await Promise.all([
    startTestSubgraph(OLD_SDL, {
      Query: { products: () => ids.map((id) => ({ id })) },
      Product: {
        __resolveReference: (ref: Ref) => ref,
        price: () => 1,
        tag: () => 'old',
      },
    }),
    startTestSubgraph(NEW_SDL, {
      Product: { __resolveReference: (ref: Ref) => ref, price: () => 10, tag: () => 'new' },
    }),
  ]);
});
afterAll(async () => {
  await Promise.all([oldSg?.stop(), newSg?.stop()]);
});

describe.each(['hive', 'apollo'] as const)('progressive override, planner %s', (planner) => {
  let gateway: Gateway;
  let url: string;
  beforeAll(async () => {
    const config = loadConfig({
      base: {
        server: { port: 0, host: '127.0.0.1' },
        supergraph: { planner, watch: false },
        subgraphs: [
          { name: 'old', replicas: [oldSg.url] },
          { name: 'new', replicas: [newSg.url] },
        ],
        ratelimit: { enabled: false },
        routing: { rules: [{ name: 'beta', header: { name: 'x-beta', value: '1' }, activate: ['beta'] }] },
      },
      env: {},
    });
    gateway = await createGateway({ config });
    url = await gateway.listen();
  }, 60_000);
  afterAll(async () => {
    await gateway?.close(100);
  });

  it('plans with the configured planner', () => {
    expect(gateway.executorStats.planner).toBe(planner);
  });

  it('resolves a percent(50) field from each subgraph for about half the requests', async () => {
    const n = 400;
    const results = await pooled(n, 20, () => gql(url, '{ products { id price } }'));
    expect(results.filter((r) => r.status !== 200 || r.body.errors)).toEqual([]);
    const prices = results.map((r) =>
      ((r.body.data?.products ?? []) as { price: number }[]).map((p) => p.price),
    );
    // one plan per request: both products of a response come from the same subgraph
    expect(prices.filter((p) => p[0] !== p[1])).toEqual([]);
    const moved = prices.filter((p) => p[0] === 10).length;
    console.log(
      `${planner}: percent(50) resolved from new for ${moved} of ${n} requests (${((moved / n) * 100).toFixed(1)}%)`,
    );
    expect(moved / n).toBeGreaterThan(0.4);
    expect(moved / n).toBeLessThan(0.6);
  }, 60_000);

  it('moves a field with a custom label for exactly the requests a header rule turns it on for', async () => {
    const results = await pooled(100, 20, async (i) => {
      const beta = i % 3 === 0;
      const res = await gql(url, '{ products { id tag } }', { headers: beta ? { 'x-beta': '1' } : {} });
      return { beta, tags: ((res.body.data?.products ?? []) as { tag: string }[]).map((p) => p.tag) };
    });
    expect(results.filter((r) => r.tags.length !== 2)).toEqual([]);
    const wrong = results.filter((r) => r.tags.some((t) => t !== (r.beta ? 'new' : 'old')));
    expect(wrong).toEqual([]);
    expect(results.filter((r) => r.beta)).toHaveLength(34);
  }, 60_000);
});
