// @override: plain, from a subgraph that is down, from a subgraph that is not in the supergraph, and
// progressive with the deterministic labels percent(0) (never moves) and percent(100) (always moves).
import type { SubgraphDef } from '../lib/types.ts';

const link = (imports: string) =>
  `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: [${imports}])`;

const ids = ['p1', 'p2'];
const n = (id: string) => Number(id.slice(1));
type Ref = { id: string };

const old: SubgraphDef = {
  name: 'old',
  sdl: `${link('"@key"')}
    type Product @key(fields: "id") { id: ID! name: String! price: Int! stock: Int! tag: String! }
    type Query { products: [Product!]! product(id: ID!): Product }`,
  resolvers: {
    Query: {
      products: () => ids.map((id) => ({ id })),
      product: (_: unknown, { id }: Ref) => (ids.includes(id) ? { id } : null),
    },
    Product: {
      __resolveReference: (ref: Ref) => (ids.includes(ref.id) ? ref : null),
      name: (p: Ref) => `Product ${n(p.id)}`,
      price: (p: Ref) => n(p.id),
      stock: () => 0,
      tag: (p: Ref) => `old-${p.id}`,
    },
  },
};

const moved: SubgraphDef = {
  name: 'new',
  sdl: `${link('"@key", "@override"')}
    type Product @key(fields: "id") {
      id: ID!
      price: Int! @override(from: "old")
      stock: Int! @override(from: "old", label: "percent(100)")
      tag: String! @override(from: "old", label: "percent(0)")
      rating: Int! @override(from: "legacy")
      weight: Int! @override(from: "gone")
    }`,
  resolvers: {
    Product: {
      __resolveReference: (ref: Ref) => (ids.includes(ref.id) ? ref : null),
      price: (p: Ref) => n(p.id) * 10,
      stock: (p: Ref) => n(p.id) + 4,
      tag: (p: Ref) => `new-${p.id}`,
      rating: (p: Ref) => n(p.id) + 3,
      weight: (p: Ref) => n(p.id) * 100,
    },
  },
};

// Down for the whole run: the field overridden away from it must never need it.
const legacy: SubgraphDef = {
  name: 'legacy',
  down: true,
  sdl: `${link('"@key"')}
    type Product @key(fields: "id") { id: ID! rating: Int! }`,
  resolvers: { Product: { rating: () => -1 } },
};

export const subgraphs = [old, moved, legacy];
