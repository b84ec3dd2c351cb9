// @provides and @external: a nested provides on an entity, provides on a field returning an interface and
// a union, and @external fields that are not provided (fetched from their owner).
import type { SubgraphDef } from '../lib/types.ts';

const link = (imports: string) =>
  `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: [${imports}])`;

const users = [
  { id: 'u1', name: 'Ada', address: { city: 'Paris', street: 'Rue 1' } },
  { id: 'u2', name: 'Bob', address: { city: 'Oslo', street: 'Gate 2' } },
];
const reviews = [
  { id: 'r1', body: 'great', authorId: 'u1' },
  { id: 'r2', body: 'meh', authorId: 'u2' },
  { id: 'r3', body: 'ok', authorId: 'u1' },
];
const book = { id: 'b1', title: 'Dune', pages: 412 };
const movie = { id: 'm1', title: 'Alien', minutes: 117 };
const itemType = (o: { id: string }) => (o.id.startsWith('b') ? 'Book' : 'Movie');
const user = (id: string) => users.find((u) => u.id === id)!;

const usersSubgraph: SubgraphDef = {
  name: 'users',
  sdl: `${link('"@key", "@shareable"')}
    type User @key(fields: "id") { id: ID! name: String! @shareable address: Address! @shareable }
    type Address @shareable { city: String! street: String! }
    type Query { me: User }`,
  resolvers: {
    Query: { me: () => users[0] },
    User: { __resolveReference: (ref: { id: string }) => users.find((u) => u.id === ref.id) ?? null },
  },
};

const catalog: SubgraphDef = {
  name: 'catalog',
  sdl: `${link('"@key", "@shareable"')}
    interface Item { id: ID! title: String! }
    type Book implements Item @key(fields: "id") { id: ID! title: String! @shareable pages: Int! }
    type Movie implements Item @key(fields: "id") { id: ID! title: String! @shareable minutes: Int! }
    union Media = Book | Movie
    type Query { items: [Item!]! }`,
  resolvers: {
    Query: { items: () => [book, movie] },
    Item: { __resolveType: itemType },
    Media: { __resolveType: itemType },
    Book: { __resolveReference: (ref: { id: string }) => (ref.id === book.id ? book : null) },
    Movie: { __resolveReference: (ref: { id: string }) => (ref.id === movie.id ? movie : null) },
  },
};

// What this subgraph provides it answers as its owner would: a provided path gives the same data.
const reviewsSubgraph: SubgraphDef = {
  name: 'reviews',
  sdl: `${link('"@key", "@shareable", "@external", "@provides"')}
    type Review @key(fields: "id") {
      id: ID! body: String!
      author: User! @provides(fields: "name address { city }")
      plainAuthor: User!
    }
    type User @key(fields: "id") {
      id: ID! name: String! @external address: Address! @external reviews: [Review!]!
    }
    type Address @shareable { city: String! @external }
    interface Item { id: ID! title: String! }
    type Book implements Item @key(fields: "id") { id: ID! title: String! @external }
    type Movie implements Item @key(fields: "id") { id: ID! title: String! @external }
    union Media = Book | Movie
    type Query {
      reviews: [Review!]!
      pick: Item @provides(fields: "... on Book { title } ... on Movie { title }")
      picks: [Media!]! @provides(fields: "... on Book { title } ... on Movie { title }")
    }`,
  resolvers: {
    Query: {
      reviews: () => reviews,
      pick: () => ({ id: book.id, title: book.title }),
      picks: () => [
        { id: movie.id, title: movie.title },
        { id: book.id, title: book.title },
      ],
    },
    Item: { __resolveType: itemType },
    Media: { __resolveType: itemType },
    Review: {
      __resolveReference: (ref: { id: string }) => reviews.find((r) => r.id === ref.id) ?? null,
      author: (r: { authorId: string }) => {
        const u = user(r.authorId);
        return { id: u.id, name: u.name, address: { city: u.address.city } };
      },
      plainAuthor: (r: { authorId: string }) => ({ id: r.authorId }),
    },
    User: {
      __resolveReference: (ref: { id: string }) => ref,
      reviews: (u: { id: string }) => reviews.filter((r) => r.authorId === u.id),
    },
  },
};

export const subgraphs = [usersSubgraph, catalog, reviewsSubgraph];
