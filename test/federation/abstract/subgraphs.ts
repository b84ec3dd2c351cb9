// Interfaces and unions spread across subgraphs: an entity interface, an @interfaceObject that resolves it
// and one that does not (resolvable: false), a union whose members differ per subgraph, and a value
// interface (Priced) that only one subgraph knows Book implements.
import type { SubgraphDef } from '../lib/types.ts';

const link = (imports: string) =>
  `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: [${imports}])`;

const book = { id: 'b1', title: 'Dune' };
const dvd = { id: 'd1', title: 'Alien' };
const nodes = [book, dvd];
const typeOf = (o: { id: string }) =>
  o.id.startsWith('b') ? 'Book' : o.id.startsWith('d') ? 'Dvd' : 'Gadget';
const find = (id: string) => nodes.find((x) => x.id === id) ?? null;
const scores: Record<string, number> = { b1: 10, d1: 20 };

const library: SubgraphDef = {
  name: 'library',
  sdl: `${link('"@key"')}
    interface Node @key(fields: "id") { id: ID! }
    type Book implements Node @key(fields: "id") { id: ID! title: String! }
    type Dvd implements Node @key(fields: "id") { id: ID! title: String! }
    union Thing = Book | Dvd
    type Query { nodes: [Node!]! node(id: ID!): Node things: [Thing!]! }`,
  resolvers: {
    Query: {
      nodes: () => nodes,
      node: (_: unknown, { id }: { id: string }) => find(id),
      things: () => [dvd, book],
    },
    Node: { __resolveReference: (ref: { id: string }) => find(ref.id), __resolveType: typeOf },
    Thing: { __resolveType: typeOf },
    Book: { __resolveReference: (ref: { id: string }) => find(ref.id) },
    Dvd: { __resolveReference: (ref: { id: string }) => find(ref.id) },
  },
};

const extras: SubgraphDef = {
  name: 'extras',
  sdl: `${link('"@key", "@interfaceObject"')}
    type Node @key(fields: "id") @interfaceObject { id: ID! score: Int! related: [Node!]! }
    type Query { topNode: Node }`,
  resolvers: {
    Query: { topNode: () => ({ id: 'b1' }) },
    Node: {
      __resolveReference: (ref: { id: string }) => (ref.id in scores ? ref : null),
      score: (n: { id: string }) => scores[n.id],
      related: (n: { id: string }) => (n.id === 'b1' ? [{ id: 'd1' }] : []),
    },
  },
};

const refs: SubgraphDef = {
  name: 'refs',
  sdl: `${link('"@key", "@interfaceObject"')}
    type Node @key(fields: "id", resolvable: false) @interfaceObject { id: ID! }
    type Query { pinned: [Node!]! }`,
  resolvers: { Query: { pinned: () => [{ id: 'd1' }, { id: 'b1' }] } },
};

const shop: SubgraphDef = {
  name: 'shop',
  sdl: `${link('"@key"')}
    interface Priced { price: Int! }
    type Book implements Priced @key(fields: "id") { id: ID! price: Int! }
    type Gadget implements Priced { id: ID! name: String! price: Int! }
    union Thing = Book | Gadget
    type Query { shopThings: [Thing!]! }`,
  resolvers: {
    Query: { shopThings: () => [{ id: 'b1' }, { id: 'g1', name: 'Phone' }] },
    Thing: { __resolveType: typeOf },
    Priced: { __resolveType: typeOf },
    Book: { __resolveReference: (ref: { id: string }) => ref, price: () => 9 },
    Gadget: { price: () => 99 },
  },
};

export const subgraphs = [library, extras, refs, shop];
