// @skip/@include on fields, fragments and roots, and on the key a join needs.
import type { SubgraphDef } from '../lib/types.ts';

const LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])';
export const products = [
  { id: 'p1', name: 'Pen', price: 2 },
  { id: 'p2', name: 'Ink', price: 5 },
];
const find = (id: string) => products.find((p) => p.id === id) ?? null;

export const catalog: SubgraphDef = {
  name: 'catalog',
  sdl: `${LINK}
    type Product @key(fields: "id") { id: ID! name: String! }
    type Query { products: [Product!]! product(id: ID!): Product }`,
  resolvers: {
    Query: { products: () => products, product: (_: unknown, { id }: { id: string }) => find(id) },
    Product: { __resolveReference: (ref: { id: string }) => find(ref.id) },
  },
};

export const pricing: SubgraphDef = {
  name: 'pricing',
  sdl: `${LINK}
    type Product @key(fields: "id") { id: ID! price: Int! }`,
  resolvers: { Product: { __resolveReference: (ref: { id: string }) => find(ref.id) } },
};

export const subgraphs = [catalog, pricing];
