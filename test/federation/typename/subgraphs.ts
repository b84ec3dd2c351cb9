// __typename everywhere: the roots, entities fetched from another subgraph, union members, aliases.
import type { SubgraphDef } from '../lib/types.ts';

const LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])';
const names: Record<string, string> = { u1: 'Ada', u2: 'Bob' };
const friends: Record<string, string | null> = { u1: 'u2', u2: null };

const a: SubgraphDef = {
  name: 'a',
  sdl: `${LINK}
    type User @key(fields: "id") { id: ID! }
    type Post { id: ID! }
    union Result = User | Post
    type Query { me: User search: [Result!]! }
    type Mutation { ping: Boolean! }`,
  resolvers: {
    Query: { me: () => ({ id: 'u1' }), search: () => [{ id: 'u1' }, { id: 'x1' }] },
    Mutation: { ping: () => true },
    Result: { __resolveType: (o: { id: string }) => (o.id.startsWith('u') ? 'User' : 'Post') },
    User: { __resolveReference: (ref: { id: string }) => ref },
  },
};

const b: SubgraphDef = {
  name: 'b',
  sdl: `${LINK}
    type User @key(fields: "id") { id: ID! name: String! friend: User }`,
  resolvers: {
    User: {
      __resolveReference: (ref: { id: string }) => (ref.id in names ? ref : null),
      name: (u: { id: string }) => names[u.id],
      friend: (u: { id: string }) => (friends[u.id] ? { id: friends[u.id] } : null),
    },
  },
};

export const subgraphs = [a, b];
