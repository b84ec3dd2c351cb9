// Mutation order: root mutation fields run one after the other, in document order, even across
// subgraphs. Both subgraphs run in this process and share one counter, so the order shows in the values.
import type { SubgraphDef } from '../lib/types.ts';

const LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])';
const counter = { value: 0 };
// A Counter's id carries the value it was taken at, so later fetches of its fields cannot race the next
// mutation.
const snapshot = () => ({ id: `c${counter.value}`, value: counter.value });

const a: SubgraphDef = {
  name: 'a',
  sdl: `${LINK}
    type Counter @key(fields: "id") { id: ID! value: Int! }
    type Query { value: Int! }
    type Mutation { reset: Int! add(n: Int!): Int! bump(n: Int!): Counter! }`,
  resolvers: {
    Query: { value: () => counter.value },
    Mutation: {
      reset: () => (counter.value = 0),
      add: (_: unknown, { n }: { n: number }) => (counter.value += n),
      bump: (_: unknown, { n }: { n: number }) => {
        counter.value += n;
        return snapshot();
      },
    },
    Counter: {
      __resolveReference: (ref: { id: string }) => ({ id: ref.id, value: Number(ref.id.slice(1)) }),
    },
  },
};

const b: SubgraphDef = {
  name: 'b',
  sdl: `${LINK}
    type Counter @key(fields: "id") { id: ID! doubled: Int! }
    type Mutation { multiply(n: Int!): Int! }`,
  resolvers: {
    Mutation: { multiply: (_: unknown, { n }: { n: number }) => (counter.value *= n) },
    Counter: {
      __resolveReference: (ref: { id: string }) => ref,
      doubled: (c: { id: string }) => Number(c.id.slice(1)) * 2,
    },
  },
};

export const subgraphs = [a, b];
