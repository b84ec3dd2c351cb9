// A large federated graph for the planning benchmark (`npm run bench -- --planning`): generated, not
// hand-written, and deterministic (the same subgraph count always gives the same SDL), so figures from
// two runs or two machines plan the same graph.
//
// Subgraph `sN` (N = 0 … count-1) owns:
// - the entity `EN @key(fields: "id")` (every third one also `@key(fields: "sku")`), with a link to the
//   next subgraph's entity (`next: EN+1`, a chain of entity hops across subgraphs), a list of the entities
//   of the subgraph after that (`others: [EN+2!]!`) and nested lists of a value type (`grid: [[CellN]]`);
// - value types `DetailN`, `CellN`, `StatN`, `ExtN`, an interface `ItemN` with two implementations
//   `ItemAN`/`ItemBN`, a union `ResultN`, an enum `KindN` and an input `FilterN` (11 types per subgraph);
// - root fields `eN`, `listN`, `searchN`, `itemsN`.
// And it contributes fields to three entities owned elsewhere, so every entity is resolved by four
// subgraphs, all keyed on `id`:
// - to `E(N+7)`: `extN: ExtN!` and `costN: Int! @requires(fields: "score name")` on `@external` fields;
// - to `E(N+13)`: `peersN: [EN!]!` (back to its own entity) and `statsN: [[StatN!]!]!`;
// - to `E(N+29)`: `flagN: Boolean!`.
// `s0` also owns an entity interface `Media @key(fields: "id")` (types `Book`, `Movie`), which `s1` … `s5`
// extend as an `@interfaceObject` with `ratingN` and reach from their own entity (`EN.media`).
import { composeSupergraph, type SubgraphSdl } from '../../../gateway/src/supergraph/index.ts';

export const DEFAULT_LARGE_SUBGRAPHS = 60;

/** Subgraph N contributes fields to the entities of subgraphs N+7, N+13 and N+29. */
const EXT = 7;
const PEERS = 13;
const FLAG = 29;
/** Subgraphs 1 … MEDIA extend the `Media` entity interface of s0. */
const MEDIA = 5;

const LINK = `extend schema
  @link(
    url: "https://specs.apollo.dev/federation/v2.9"
    import: ["@key", "@external", "@requires", "@shareable", "@interfaceObject"]
  )`;

const pad = (n: number) => String(n).padStart(2, '0');
const hasSkuKey = (n: number) => n % 3 === 0;

/** The SDL of subgraph `n` of `count`. */
function subgraphSdl(n: number, count: number): string {
  const at = (offset: number) => (n + offset) % count;
  const E = (i: number) => `E${pad(i)}`;
  const s = pad(n);
  // Fields this subgraph declares on entities it does not own, by entity index.
  const foreign = new Map<number, string[]>();
  const add = (i: number, ...fields: string[]) => {
    if (i === n) return;
    const list = foreign.get(i) ?? [];
    for (const f of fields) if (!list.includes(f)) list.push(f);
    foreign.set(i, list);
  };
  add(at(1));
  add(at(2));
  add(at(EXT), 'score: Int! @external', 'name: String! @external', `ext${s}: Ext${s}!`);
  add(at(EXT), `cost${s}: Int! @requires(fields: "score name")`);
  add(at(PEERS), `peers${s}: [${E(n)}!]!`, `stats${s}: [[Stat${s}!]!]!`);
  add(at(FLAG), `flag${s}: Boolean!`);

  const media = n >= 1 && n <= MEDIA;
  const keys = hasSkuKey(n) ? '@key(fields: "id") @key(fields: "sku")' : '@key(fields: "id")';
  const parts = [
    LINK,
    `type ${E(n)} ${keys} {
  id: ID!
  sku: String!
  name: String!
  score: Int!
  kind: Kind${s}!
  tags: [String!]!
  detail: Detail${s}!
  next: ${E(at(1))}
  others: [${E(at(2))}!]!
  grid: [[Cell${s}!]!]!
  items: [Item${s}!]!${media ? '\n  media: [Media!]!' : ''}
}`,
    `type Detail${s} {
  level: Int!
  note: String
  cells: [Cell${s}!]!
}`,
    `type Cell${s} {
  x: Int!
  y: Int!
  value: Float!
}`,
    `type Stat${s} {
  label: String!
  count: Int!
}`,
    `type Ext${s} {
  source: String!
  weight: Float!
  kind: Kind${s}!
}`,
    `interface Item${s} {
  id: ID!
  title: String!
  owner: ${E(n)}!
}`,
    `type ItemA${s} implements Item${s} {
  id: ID!
  title: String!
  owner: ${E(n)}!
  price: Int!
}`,
    `type ItemB${s} implements Item${s} {
  id: ID!
  title: String!
  owner: ${E(n)}!
  pages: Int!
  related: [Item${s}!]!
}`,
    `union Result${s} = ItemA${s} | ItemB${s} | Detail${s}`,
    `enum Kind${s} {
  ALPHA
  BETA
  GAMMA
}`,
    `input Filter${s} {
  kind: Kind${s}
  minScore: Int
  tags: [String!]
}`,
    `type Query {
  e${s}(id: ID!): ${E(n)}
  list${s}(filter: Filter${s}, first: Int = 10): [${E(n)}!]!
  search${s}(term: String!): [Result${s}!]!
  items${s}: [Item${s}!]!
}`,
  ];
  for (const [i, fields] of [...foreign].sort((a, b) => a[0] - b[0])) {
    parts.push(`type ${E(i)} @key(fields: "id") {\n  id: ID!${fields.map((f) => `\n  ${f}`).join('')}\n}`);
  }
  if (n === 0) {
    parts.push(
      `interface Media @key(fields: "id") {
  id: ID!
  title: String!
}`,
      `type Book implements Media @key(fields: "id") {
  id: ID!
  title: String!
  pages: Int!
}`,
      `type Movie implements Media @key(fields: "id") {
  id: ID!
  title: String!
  minutes: Int!
}`,
      `extend type Query {
  media: [Media!]!
}`,
    );
  }
  if (media)
    parts.push(`type Media @key(fields: "id") @interfaceObject {\n  id: ID!\n  rating${s}: Float!\n}`);
  return `${parts.join('\n\n')}\n`;
}

/** The subgraphs of the large graph (`count` ≥ 30, so the N+29 contributions stay distinct). */
export function largeSubgraphs(count: number = DEFAULT_LARGE_SUBGRAPHS): SubgraphSdl[] {
  if (!Number.isInteger(count) || count < 30) throw new Error(`large supergraph: count ≥ 30, got ${count}`);
  return Array.from({ length: count }, (_, n) => ({
    name: `s${pad(n)}`,
    url: `http://s${pad(n)}.invalid/graphql`,
    sdl: subgraphSdl(n, count),
  }));
}

/** The large graph's supergraph SDL, composed with Tollgate's own `composeSupergraph`. */
export function composeLargeSupergraph(count: number = DEFAULT_LARGE_SUBGRAPHS): string {
  return composeSupergraph(largeSubgraphs(count));
}

export interface PlanningOperation {
  id: string;
  title: string;
  query: string;
  operationName: string;
}

/** Operations on the large graph (valid for any count ≥ 30). */
export function largeOperations(count: number = DEFAULT_LARGE_SUBGRAPHS): PlanningOperation[] {
  const at = (n: number) => pad(((n % count) + count) % count);
  // Entity E(i) carries ext/cost from s(i-7), peers/stats from s(i-13), flag from s(i-29).
  const contributed = (i: number) =>
    `ext${at(i - EXT)} { source weight } cost${at(i - EXT)} flag${at(i - FLAG)}`;

  // E00 → next → next … 8 hops: each hop is owned by the next subgraph, and each level also asks for the
  // fields two other subgraphs contribute, one of them through @requires.
  const depth = 8;
  let chain = '';
  for (let level = depth; level >= 1; level--) {
    chain = `next { id name ${contributed(level)}${chain ? ` ${chain}` : ''} }`;
  }
  const deepChain = `query DeepChain($id: ID!) {
  e00(id: $id) {
    id name ${contributed(0)}
    ${chain}
  }
}`;

  // Fragments on interfaces and unions, through entity hops, plus the Media entity interface that five
  // subgraphs extend as an @interfaceObject.
  const interfaces = `query InterfaceFragments($term: String!) {
  items03 { ...ItemFields ... on ItemB03 { pages related { ...ItemFields } } }
  search03(term: $term) {
    __typename
    ... on ItemA03 { id price owner { name next { name others { id ${contributed(6)} } } } }
    ... on ItemB03 { id pages }
    ... on Detail03 { level cells { x y value } }
  }
  e01(id: "1") {
    media { id title rating01 ... on Book { pages } ... on Movie { minutes } }
    next { media { title rating02 rating03 } }
  }
  media { __typename id title rating04 rating05 }
}

fragment ItemFields on Item03 {
  id title owner { id name ${contributed(3)} }
}`;

  // One root field per subgraph for twenty subgraphs (aliases), each with its entity's own and
  // contributed fields: a wide plan with many parallel fetches.
  const wideFields = Array.from(
    { length: 20 },
    (_, k) => `  w${pad(k)}: list${at(k)}(first: 20) {
    id sku name score kind tags detail { level note } ${contributed(k)}
  }`,
  ).join('\n');
  const wide = `query WideSelection {\n${wideFields}\n}`;

  // Lists of lists and lists of entities from other subgraphs, nested.
  const nested = `query NestedLists {
  list13(first: 50) {
    id grid { x y value }
    peers00 { id name grid { value } }
    stats00 { label count }
    others { id name stats02 { label count } peers02 { id others { id name ${contributed(4)} } } }
  }
}`;

  return [
    {
      id: 'deep-chain',
      title: '8 entity hops, each with @requires',
      query: deepChain,
      operationName: 'DeepChain',
    },
    {
      id: 'interface-fragments',
      title: 'fragments on interfaces, unions, entity interface',
      query: interfaces,
      operationName: 'InterfaceFragments',
    },
    { id: 'wide', title: '20 root fields on 20 subgraphs', query: wide, operationName: 'WideSelection' },
    { id: 'nested-lists', title: 'nested lists of entities', query: nested, operationName: 'NestedLists' },
  ];
}
