// Null keys and null entities: an entity reference that is null, one the other subgraph does not know
// (null from _entities), one whose fetch fails, and a non-null root that comes back null.
import type { SubgraphDef } from '../lib/types.ts';

const LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])';
// o1 → c1 (known to b), o2 → no customer, o3 → c404 (b answers null), o4 → c500 (b throws)
const orders = [
  { id: 'o1', customer: { id: 'c1' } },
  { id: 'o2', customer: null },
  { id: 'o3', customer: { id: 'c404' } },
  { id: 'o4', customer: { id: 'c500' } },
];

const a: SubgraphDef = {
  name: 'a',
  sdl: `${LINK}
    type Order @key(fields: "id") { id: ID! customer: Customer }
    type Customer @key(fields: "id") { id: ID! }
    type Query { orders: [Order!]! order(id: ID!): Order broken: Order! }`,
  resolvers: {
    Query: {
      orders: () => orders,
      order: (_: unknown, { id }: { id: string }) => orders.find((o) => o.id === id) ?? null,
      broken: () => null,
    },
    Customer: { __resolveReference: (ref: { id: string }) => ref },
  },
};

const b: SubgraphDef = {
  name: 'b',
  sdl: `${LINK}
    type Customer @key(fields: "id") { id: ID! name: String vip: Boolean! }`,
  resolvers: {
    Customer: {
      // async, so a failure is this representation's alone and not the whole _entities field's
      __resolveReference: async (ref: { id: string }) => {
        if (ref.id === 'c500') throw new Error('customer store failed');
        return ref.id === 'c1' ? { id: 'c1', name: 'Carla', vip: true } : null;
      },
    },
  },
};

export const subgraphs = [a, b];
