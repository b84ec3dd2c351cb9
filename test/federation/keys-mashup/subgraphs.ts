// A keys mashup: entities joined through several different keys, where some fields are reachable only
// through a key that a third subgraph has to supply (A.score needs pId from a, B.tag needs cid from b),
// and B.items (e) gives only composite keys: e → b (cid → id) → a (id → pId, name) → c.
import type { SubgraphDef } from '../lib/types.ts';

const link = (imports: string) =>
  `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: [${imports}])`;

const LINK =
  'extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@shareable"])';
const as = [
  { id: 'a1', pId: 'p1', name: 'A1', cid: { one: 'a1-1', two: 'a1-2' }, score: 11 },
  { id: 'a2', pId: 'p2', name: 'A2', cid: { one: 'a2-1', two: 'a2-2' }, score: 22 },
];
const theB = { id: 'b1', cid: { one: '1', two: '2' }, tag: 'T' };
type Cid = { one: string; two: string };
const sameCid = (x: Cid, y: Cid) => x.one === y.one && x.two === y.two;
const findA = (ref: { id?: string; pId?: string; cid?: Cid }) =>
  as.find((x) => (ref.id ? x.id === ref.id : ref.pId ? x.pId === ref.pId : sameCid(x.cid, ref.cid!))) ?? null;

const a: SubgraphDef = {
  name: 'a',
  sdl: `${LINK}
    type Query { b: B }
    type B @key(fields: "id") { id: ID! a: [A!]! @shareable }
    type A @key(fields: "id") @key(fields: "pId") { id: ID! pId: ID! name: String! }`,
  resolvers: {
    Query: { b: () => ({ id: theB.id }) },
    B: { __resolveReference: (ref: { id: string }) => ref, a: () => as.map((x) => ({ id: x.id })) },
    A: {
      __resolveReference: findA,
      pId: (x: { id: string }) => findA(x)?.pId,
      name: (x: { id: string }) => findA(x)?.name,
    },
  },
};

const b: SubgraphDef = {
  name: 'b',
  sdl: `${LINK}
    type CompositeID @shareable { one: ID! two: ID! }
    type B @key(fields: "id") @key(fields: "cid { one two }") { id: ID! cid: CompositeID! a: [A!]! @shareable }
    type A @key(fields: "id") @key(fields: "cid { one two }") { id: ID! cid: CompositeID! nameInB: String! }`,
  resolvers: {
    B: {
      __resolveReference: () => theB,
      a: () => as.map((x) => ({ id: x.id, cid: x.cid })),
    },
    A: {
      __resolveReference: findA,
      cid: (x: { id: string }) => findA(x)?.cid,
      nameInB: (x: { id: string }) => `B:${findA(x)?.name}`,
    },
  },
};

const c: SubgraphDef = {
  name: 'c',
  sdl: `${link('"@key", "@external", "@requires"')}
    type A @key(fields: "pId") {
      pId: ID! score: Int! name: String! @external greeting: String! @requires(fields: "name")
    }`,
  resolvers: {
    A: {
      __resolveReference: (ref: { pId: string; name?: string }) => ({ ...findA(ref), ...ref }),
      greeting: (x: { name: string }) => `hi ${x.name}`,
    },
  },
};

const d: SubgraphDef = {
  name: 'd',
  sdl: `${LINK}
    type CompositeID @shareable { one: ID! two: ID! }
    type B @key(fields: "cid { one two }") { cid: CompositeID! tag: String! }`,
  resolvers: {
    B: { __resolveReference: (ref: { cid: Cid }) => (sameCid(ref.cid, theB.cid) ? theB : null) },
  },
};

// Knows an A only by its composite key, and cannot resolve one: every other A field is three keys away.
const e: SubgraphDef = {
  name: 'e',
  sdl: `${LINK}
    type CompositeID @shareable { one: ID! two: ID! }
    type B @key(fields: "id") { id: ID! items: [A!]! }
    type A @key(fields: "cid { one two }", resolvable: false) { cid: CompositeID! }`,
  resolvers: {
    B: {
      __resolveReference: (ref: { id: string }) => ref,
      items: () => [...as].reverse().map((x) => ({ cid: x.cid })),
    },
  },
};

export const subgraphs = [a, b, c, d, e];
