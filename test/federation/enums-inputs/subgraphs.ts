// Enum and input-object intersections: an input-only enum keeps the values every subgraph has, an
// output-only enum the values any has, and an input object only the fields every subgraph has.
import type { SubgraphDef } from '../lib/types.ts';

const LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])';
type Filter = { term: string; limit?: number; tag?: string };
const show = (prefix: string, f: Filter) => `${prefix}:${f.term}:${f.limit ?? f.tag ?? 'none'}`;

const a: SubgraphDef = {
  name: 'a',
  sdl: `${LINK}
    enum Size { S M L }
    enum Tone { WARM COOL }
    input Filter { term: String! limit: Int }
    type Query { sized(size: Size!): String! toneA: Tone! findA(filter: Filter!): String! }`,
  resolvers: {
    Query: {
      sized: (_: unknown, { size }: { size: string }) => `a:${size}`,
      toneA: () => 'COOL',
      findA: (_: unknown, { filter }: { filter: Filter }) => show('a', filter),
    },
  },
};

const b: SubgraphDef = {
  name: 'b',
  sdl: `${LINK}
    enum Size { S M XL }
    enum Tone { WARM NEUTRAL }
    input Filter { term: String! tag: String }
    type Query { sizedB(size: Size!): String! toneB: Tone! findB(filter: Filter!): String! }`,
  resolvers: {
    Query: {
      sizedB: (_: unknown, { size }: { size: string }) => `b:${size}`,
      toneB: () => 'NEUTRAL',
      findB: (_: unknown, { filter }: { filter: Filter }) => show('b', filter),
    },
  },
};

export const subgraphs = [a, b];
