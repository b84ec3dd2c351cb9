// @inaccessible: a field, a root field and an enum value hidden from clients, and a hidden field that a
// @requires still reads.
import type { SubgraphDef } from '../lib/types.ts';

const link = (imports: string) =>
  `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: [${imports}])`;

const products = [
  { id: 'p1', name: 'Pen', code: 'X1', status: 'ACTIVE' },
  { id: 'p2', name: 'Ink', code: 'X2', status: 'SECRET' },
];

const a: SubgraphDef = {
  name: 'a',
  sdl: `${link('"@key", "@inaccessible"')}
    enum Status { ACTIVE SECRET @inaccessible }
    type Product @key(fields: "id") { id: ID! name: String! code: String! @inaccessible }
    type Query {
      products: [Product!]!
      byStatus(status: Status!): [Product!]!
      secretProducts: [Product!]! @inaccessible
    }`,
  resolvers: {
    Query: {
      products: () => products,
      byStatus: (_: unknown, { status }: { status: string }) => products.filter((p) => p.status === status),
      secretProducts: () => products,
    },
    Product: { __resolveReference: (ref: { id: string }) => products.find((p) => p.id === ref.id) ?? null },
  },
};

const b: SubgraphDef = {
  name: 'b',
  sdl: `${link('"@key", "@external", "@requires"')}
    type Product @key(fields: "id") {
      id: ID!
      code: String! @external
      label: String! @requires(fields: "code")
    }`,
  resolvers: {
    Product: {
      __resolveReference: (ref: { id: string; code: string }) => ref,
      label: (p: { code: string }) => `label-${p.code}`,
    },
  },
};

export const subgraphs = [a, b];
