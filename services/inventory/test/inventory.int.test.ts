import { startTestSubgraph, type TestSubgraph } from '@tollgate/kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as inventory from '../src/server.ts';

const ENTITIES = `query ($r: [_Any!]!) {
  _entities(representations: $r) { ... on Product { upc inStock shippingEstimate } }
}`;

/** What the gateway sends after fetching price and weight from products for @requires. */
const rep = (upc: string, price: number, weight: number) => ({ __typename: 'Product', upc, price, weight });

describe('inventory subgraph', () => {
  let t: TestSubgraph;

  beforeAll(async () => {
    t = await startTestSubgraph(inventory);
  });
  afterAll(() => t?.close());

  it('seeds a stock row per product, some sold out', async () => {
    const [stats] = await t.db.query<{ n: string; zero: string }>(
      'SELECT count(*) AS n, count(*) FILTER (WHERE quantity = 0) AS zero FROM inventory.stock',
    );
    expect(stats?.n).toBe('250');
    expect(Number(stats?.zero)).toBeGreaterThan(0);
  });

  it('answers inStock from the table and shippingEstimate from the representation', async () => {
    // 000002 is sold out (every fifth from 2), 999999 has no stock row at all.
    const reps = [
      rep('000002', 500, 301),
      rep('000001', 1500, 800),
      rep('000003', 1000, 41),
      rep('999999', 10, 10),
    ];
    const res = await t.request(ENTITIES, { r: reps });
    const stock = await t.db.query<{ upc: string; quantity: number }>(
      'SELECT upc, quantity FROM inventory.stock WHERE upc = ANY($1)',
      [reps.map((r) => r.upc)],
    );
    const quantity = new Map(stock.map((s) => [s.upc, s.quantity]));
    expect(quantity.get('000002')).toBe(0);
    expect(quantity.get('000001')).toBeGreaterThan(0);
    expect(res.body).toEqual({
      data: {
        _entities: [
          { upc: '000002', inStock: false, shippingEstimate: 151 },
          { upc: '000001', inStock: true, shippingEstimate: 0 },
          { upc: '000003', inStock: (quantity.get('000003') ?? 0) > 0, shippingEstimate: 21 },
          { upc: '999999', inStock: false, shippingEstimate: 5 },
        ],
      },
    });
  });

  it('sends one statement for 5 or 50 representations', async () => {
    const run = async (n: number) => {
      const reps = Array.from({ length: n }, (_, i) => rep(String(i + 1).padStart(6, '0'), 100 * i, i));
      const before = t.db.statements;
      const res = await t.request(ENTITIES, { r: reps });
      const statements = t.db.statements - before;
      const rows = await t.db.query<{ upc: string; quantity: number }>(
        'SELECT upc, quantity FROM inventory.stock WHERE upc = ANY($1)',
        [reps.map((r) => r.upc)],
      );
      const inStock = new Map(rows.map((r) => [r.upc, r.quantity > 0]));
      expect(res.body).toEqual({
        data: {
          _entities: reps.map((r) => ({
            upc: r.upc,
            inStock: inStock.get(r.upc) ?? false,
            shippingEstimate: r.price > 1000 ? 0 : Math.round(r.weight / 2),
          })),
        },
      });
      return statements;
    };
    expect(await run(5)).toBe(1);
    expect(await run(50)).toBe(1);
  });

  it('needs no SQL for shipping estimates alone', async () => {
    const before = t.db.statements;
    const res = await t.request(
      'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Product { shippingEstimate } } }',
      {
        r: [rep('000003', 2000, 10), rep('000004', 20, 10)],
      },
    );
    expect(res.body).toEqual({ data: { _entities: [{ shippingEstimate: 0 }, { shippingEstimate: 5 }] } });
    expect(t.db.statements - before).toBe(0);
  });

  it('publishes @requires in its SDL', async () => {
    const res = await t.request('{ _service { sdl } }');
    expect((res.body.data!._service as { sdl: string }).sdl).toContain('@requires(fields: "price weight")');
  });

  it('counts the GraphQL requests it served in /health', async () => {
    const health = async () =>
      (await fetch(t.url.replace('/graphql', '/health'))).json() as Promise<{ requests: number }>;
    const before = await health();
    await t.request(ENTITIES, { r: [rep('000001', 1, 1)] });
    expect(await health()).toEqual({ status: 'ok', service: 'inventory', requests: before.requests + 1 });
  });
});
