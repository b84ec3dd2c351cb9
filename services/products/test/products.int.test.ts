import { startTestSubgraph, type TestSubgraph } from '@tollgate/kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as products from '../src/server.ts';

interface ProductRow {
  upc: string;
  name: string;
  price: number;
  weight: number;
}

const COLUMNS = 'upc, name, price, weight';

describe('products subgraph', () => {
  let t: TestSubgraph;

  beforeAll(async () => {
    t = await startTestSubgraph(products);
  });
  afterAll(() => t?.close());

  it('seeds 250 products with six-digit upcs, some priced above 1000', async () => {
    const [stats] = await t.db.query<{ n: string; first: string; last: string; pricey: string }>(
      `SELECT count(*) AS n, min(upc) AS first, max(upc) AS last, count(*) FILTER (WHERE price > 1000) AS pricey
       FROM products.products`,
    );
    expect(stats).toMatchObject({ n: '250', first: '000001', last: '000250' });
    expect(Number(stats?.pricey)).toBeGreaterThan(0);
    expect(Number(stats?.pricey)).toBeLessThan(250);
  });

  it('returns topProducts in upc order with one statement for 5 or 50', async () => {
    const run = async (first: number) => {
      const before = t.db.statements;
      const res = await t.request(
        'query ($first: Int) { topProducts(first: $first) { upc name price weight } }',
        {
          first,
        },
      );
      const statements = t.db.statements - before;
      const rows = await t.db.query<ProductRow>(
        `SELECT ${COLUMNS} FROM products.products ORDER BY upc LIMIT $1`,
        [first],
      );
      expect(rows).toHaveLength(first);
      expect(res.body).toEqual({ data: { topProducts: rows } });
      return statements;
    };
    expect(await run(5)).toBe(1);
    expect(await run(50)).toBe(1);
  });

  it('defaults topProducts to 5', async () => {
    const res = await t.request('{ topProducts { upc } }');
    expect(res.body).toEqual({
      data: { topProducts: ['000001', '000002', '000003', '000004', '000005'].map((upc) => ({ upc })) },
    });
  });

  it.each([-1, 1001])('rejects topProducts(first: %i) with BAD_USER_INPUT', async (first) => {
    const res = await t.request('query ($first: Int) { topProducts(first: $first) { upc } }', { first });
    expect(res.body.errors).toMatchObject([
      { path: ['topProducts'], extensions: { code: 'BAD_USER_INPUT' } },
    ]);
    expect(res.body.data).toBeNull();
  });

  it('accepts the bounds 0 and 1000', async () => {
    const none = await t.request('{ topProducts(first: 0) { upc } }');
    const all = await t.request('{ topProducts(first: 1000) { upc } }');
    expect(none.body).toEqual({ data: { topProducts: [] } });
    expect((all.body.data!.topProducts as unknown[]).length).toBe(250);
  });

  it('resolves product(upc), and null for an unknown upc', async () => {
    const res = await t.request(
      '{ a: product(upc: "000042") { upc name price weight } b: product(upc: "x") { upc } }',
    );
    const [row] = await t.db.query<ProductRow>(
      `SELECT ${COLUMNS} FROM products.products WHERE upc = '000042'`,
    );
    expect(res.body).toEqual({ data: { a: row, b: null } });
  });

  it('resolves Product entities in key order with one statement whatever the batch size', async () => {
    const query = `query ($r: [_Any!]!) {
      _entities(representations: $r) { ... on Product { upc name price weight } }
    }`;
    const run = async (n: number) => {
      const upcs = [
        ...Array.from({ length: n - 1 }, (_, i) => String(n * 3 - i * 3).padStart(6, '0')),
        '999999',
      ];
      const before = t.db.statements;
      const res = await t.request(query, { r: upcs.map((upc) => ({ __typename: 'Product', upc })) });
      const statements = t.db.statements - before;
      const rows = await t.db.query<ProductRow>(
        `SELECT ${COLUMNS} FROM products.products WHERE upc = ANY($1)`,
        [upcs],
      );
      const byUpc = new Map(rows.map((r) => [r.upc, r]));
      expect(rows.length).toBe(n - 1);
      expect(res.body).toEqual({ data: { _entities: upcs.map((upc) => byUpc.get(upc) ?? null) } });
      return statements;
    };
    expect(await run(5)).toBe(1);
    expect(await run(50)).toBe(1);
  });

  it('counts the GraphQL requests it served in /health', async () => {
    const health = async () =>
      (await fetch(t.url.replace('/graphql', '/health'))).json() as Promise<{ requests: number }>;
    const before = await health();
    await t.request('{ topProducts { upc } }');
    await t.request('{ topProducts { upc } }');
    expect(await health()).toEqual({ status: 'ok', service: 'products', requests: before.requests + 2 });
  });
});
