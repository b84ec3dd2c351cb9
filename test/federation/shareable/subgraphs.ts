// @shareable: root fields and value types reachable from several subgraphs, and an entity reached
// through a shareable root.
import type { SubgraphDef } from '../lib/types.ts';

const LINK =
  'extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@shareable"])';
const lamp = { id: 'p7', name: 'Lamp', stock: 3, color: 'red' };

const a: SubgraphDef = {
  name: 'a',
  sdl: `${LINK}
    type Query { version: String! @shareable shop: Shop @shareable featured: Product @shareable }
    type Shop @shareable { name: String! city: String! }
    type Product @key(fields: "id") { id: ID! name: String! }`,
  resolvers: {
    Query: { version: () => '1.0', shop: () => ({ name: 'Corner', city: 'Lyon' }), featured: () => lamp },
    Product: { __resolveReference: (ref: { id: string }) => (ref.id === lamp.id ? lamp : null) },
  },
};

const b: SubgraphDef = {
  name: 'b',
  sdl: `${LINK}
    type Query { version: String! @shareable shop: Shop @shareable featured: Product @shareable }
    type Shop @shareable { name: String! open: Boolean! }
    type Product @key(fields: "id") { id: ID! stock: Int! }`,
  resolvers: {
    Query: { version: () => '1.0', shop: () => ({ name: 'Corner', open: true }), featured: () => lamp },
    Product: { __resolveReference: (ref: { id: string }) => (ref.id === lamp.id ? lamp : null) },
  },
};

const c: SubgraphDef = {
  name: 'c',
  sdl: `${LINK}
    type Query { hello: String! }
    type Product @key(fields: "id") { id: ID! color: String! }`,
  resolvers: {
    Query: { hello: () => 'hi' },
    Product: { __resolveReference: (ref: { id: string }) => (ref.id === lamp.id ? lamp : null) },
  },
};

export const subgraphs = [a, b, c];
