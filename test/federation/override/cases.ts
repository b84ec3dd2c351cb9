import type { Case } from '../lib/types.ts';

// p1, p2: old answers price n, stock 0, tag old-pn; new answers price 10n, stock n+4, tag new-pn,
// rating n+3, weight 100n.
export const cases: Case[] = [
  {
    name: 'plain override: the field comes from the new subgraph',
    query: '{ products { id price } }',
    expected: {
      data: {
        products: [
          { id: 'p1', price: 10 },
          { id: 'p2', price: 20 },
        ],
      },
    },
  },
  {
    name: 'plain override on one entity, beside a field the old subgraph keeps',
    query: '{ product(id: "p2") { name price } }',
    expected: { data: { product: { name: 'Product 2', price: 20 } } },
  },
  {
    name: 'override from a subgraph that is down does not need it',
    query: '{ products { rating } }',
    expected: { data: { products: [{ rating: 4 }, { rating: 5 }] } },
  },
  {
    name: 'override from a subgraph that is not in the supergraph',
    query: '{ products { weight } }',
    expected: { data: { products: [{ weight: 100 }, { weight: 200 }] } },
  },
  {
    name: 'progressive override at percent(100) always moves',
    query: '{ products { stock } }',
    expected: { data: { products: [{ stock: 5 }, { stock: 6 }] } },
  },
  {
    name: 'progressive override at percent(0) never moves',
    query: '{ products { tag } }',
    expected: { data: { products: [{ tag: 'old-p1' }, { tag: 'old-p2' }] } },
  },
  {
    name: 'progressive override at percent(0), asked again (no draw moves it)',
    query: '{ a: product(id: "p1") { tag } b: product(id: "p2") { tag } }',
    expected: { data: { a: { tag: 'old-p1' }, b: { tag: 'old-p2' } } },
  },
  {
    name: 'every override at once',
    query: '{ products { name price stock tag rating weight } }',
    expected: {
      data: {
        products: [
          { name: 'Product 1', price: 10, stock: 5, tag: 'old-p1', rating: 4, weight: 100 },
          { name: 'Product 2', price: 20, stock: 6, tag: 'old-p2', rating: 5, weight: 200 },
        ],
      },
    },
  },
];
