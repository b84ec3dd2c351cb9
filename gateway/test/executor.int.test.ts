// Tollgate's plan executor against @apollo/gateway's own, over real HTTP: two gateways on the same
// subgraphs, one per executor, must answer every request with the same status and the same bytes.
import { GraphQLError } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type Gateway, loadConfig } from '../src/index.ts';
import { startTestSubgraph, type TestSubgraph, tempFiles } from './helpers.ts';

const CATALOG_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@shareable"])
  interface Node { id: ID! }
  enum Kind { PHYSICAL DIGITAL }
  type Product implements Node @key(fields: "id") {
    id: ID! name: String! price: Int weight: Int kind: Kind! tags: [String!]
  }
  type Book implements Node @key(fields: "id") { id: ID! title: String! }
  union SearchResult = Product | Book
  type Query {
    products(first: Int = 3): [Product!]!
    node(id: ID!): Node
    search(term: String!): [SearchResult!]!
    broken: Product!
    brokenNullable: Product
  }
  type Mutation { rename(id: ID!, name: String!): Product }
`;

const STOCK_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@external", "@requires"])
  type Product @key(fields: "id") {
    id: ID!
    price: Int @external
    weight: Int @external
    inStock: Boolean!
    shipping: Int @requires(fields: "price weight")
    failing: String
    warehouse: Warehouse
  }
  type Warehouse { code: String! city: String }
`;

const products = Array.from({ length: 6 }, (_, i) => ({
  id: `p${i + 1}`,
  name: `Product ${i + 1}`,
  price: (i + 1) * 10,
  // p3 has no weight: its shipping cannot be computed (null), the rest can
  weight: i === 2 ? null : i + 1,
  kind: i % 2 ? 'DIGITAL' : 'PHYSICAL',
  tags: i === 1 ? null : [`t${i}`, 'all'],
}));
const books = [{ id: 'b1', title: 'A Book' }];

const catalogResolvers = {
  Query: {
    products: (_: unknown, { first }: { first: number }) => products.slice(0, first),
    node: (_: unknown, { id }: { id: string }) =>
      products.find((p) => p.id === id) ?? books.find((b) => b.id === id) ?? null,
    search: () => [products[0], books[0], products[3]],
    broken: () => null,
    brokenNullable: () => {
      throw new GraphQLError('catalog is having a bad day', { extensions: { code: 'CATALOG_DOWN' } });
    },
  },
  Mutation: {
    rename: (_: unknown, { id, name }: { id: string; name: string }) => {
      const p = products.find((x) => x.id === id);
      if (p) p.name = name;
      return p ?? null;
    },
  },
  Node: { __resolveType: (o: { title?: string }) => (o.title ? 'Book' : 'Product') },
  SearchResult: { __resolveType: (o: { title?: string }) => (o.title ? 'Book' : 'Product') },
  Product: { __resolveReference: (ref: { id: string }) => products.find((p) => p.id === ref.id) },
  Book: { __resolveReference: (ref: { id: string }) => books.find((b) => b.id === ref.id) },
};

const stockResolvers = {
  Product: {
    __resolveReference: (ref: { id: string; price?: number; weight?: number | null }) => {
      // p5 does not exist here: its entity comes back null with an error at _entities.<i>
      if (ref.id === 'p5') throw new Error('p5 is not stocked');
      return ref;
    },
    inStock: (p: { id: string }) => p.id !== 'p2',
    shipping: (p: { price: number; weight: number | null }) => (p.weight == null ? null : p.price * p.weight),
    failing: (p: { id: string }) => {
      if (p.id === 'p1') throw new Error('failing field of p1');
      return `ok ${p.id}`;
    },
    warehouse: (p: { id: string }) => (p.id === 'p4' ? null : { code: `W-${p.id}`, city: null }),
  },
};

const CASES: { name: string; query: string; variables?: Record<string, unknown>; operationName?: string }[] =
  [
    { name: 'two subgraphs, @requires', query: '{ products(first: 4) { id name price inStock shipping } }' },
    {
      name: 'aliases and named fragments',
      query: `query Q { a: products(first: 2) { ...P } b: products { id ... on Product { kind } } }
              fragment P on Product { pid: id name tags warehouse { code city } }`,
    },
    {
      name: '@skip/@include with variables',
      query: `query ($s: Boolean!, $i: Boolean = false) { products { id name @skip(if: $s) inStock @include(if: $i) } }`,
      variables: { s: true },
    },
    {
      name: '@skip/@include, the other way',
      query: `query ($s: Boolean!, $i: Boolean = false) { products { id name @skip(if: $s) inStock @include(if: $i) } }`,
      variables: { s: false, i: true },
    },
    {
      name: 'interface, product',
      query: '{ node(id: "p2") { id __typename ... on Product { name inStock } ... on Book { title } } }',
    },
    {
      name: 'interface, book',
      query: '{ node(id: "b1") { id __typename ... on Product { name inStock } ... on Book { title } } }',
    },
    { name: 'interface, none', query: '{ node(id: "zz") { id } }' },
    {
      name: 'union across subgraphs',
      query: '{ search(term: "x") { __typename ... on Product { id name shipping } ... on Book { title } } }',
    },
    { name: 'non-null root field null', query: '{ broken { id } }' },
    {
      name: 'subgraph error with a code, and data beside it',
      query: '{ brokenNullable { id name } products(first: 1) { id } }',
    },
    {
      name: 'an entity the second subgraph refuses (non-null field bubbles up)',
      query: '{ products(first: 6) { id inStock failing } }',
    },
    {
      name: 'an entity the second subgraph refuses (nullable fields only)',
      query: '{ products(first: 6) { id failing warehouse { code } } }',
    },
    {
      name: 'variables passed to a fetch',
      query: 'query ($n: Int) { products(first: $n) { id } }',
      variables: { n: 2 },
    },
    {
      name: 'a variable of the wrong type',
      query: 'query ($n: Int) { products(first: $n) { id } }',
      variables: { n: 'two' },
    },
    { name: '__typename everywhere', query: '{ __typename t: __typename products { __typename id } }' },
    {
      name: 'operation picked by name',
      query: 'query A { products(first: 1) { id } } query B { products(first: 2) { id name inStock } }',
      operationName: 'B',
    },
    {
      name: 'mutation then entity fetch',
      query: 'mutation { rename(id: "p6", name: "Renamed") { id name inStock shipping } }',
    },
    { name: 'introspection (left to Apollo)', query: '{ __schema { queryType { name } } products { id } }' },
    { name: 'validation error', query: '{ products { nope } }' },
  ];

const files = tempFiles('executor');

describe('the Tollgate executor answers exactly as Apollo Gateway does', () => {
  let catalog: TestSubgraph;
  let stock: TestSubgraph;
  // by executor, not by start order: both start at once and either may be ready first
  const gateways = new Map<'tollgate' | 'apollo', Gateway>();
  let fastUrl: string;
  let apolloUrl: string;

  beforeAll(async () => {
    [catalog, stock] = await Promise.all([
      startTestSubgraph(CATALOG_SDL, catalogResolvers),
      startTestSubgraph(STOCK_SDL, stockResolvers),
    ]);
    const start = async (executor: 'tollgate' | 'apollo') => {
      const config = loadConfig({
        base: {
          server: { port: 0, host: '127.0.0.1', executor, introspection: true },
          ratelimit: { enabled: false },
          subgraphs: [
            {
              name: 'catalog',
              replicas: [catalog.url],
              schemaFile: files.write('catalog.graphql', CATALOG_SDL),
            },
            { name: 'stock', replicas: [stock.url], schemaFile: files.write('stock.graphql', STOCK_SDL) },
          ],
        },
      });
      const gateway = await createGateway({ config });
      gateways.set(executor, gateway);
      return gateway.listen();
    };
    [fastUrl, apolloUrl] = await Promise.all([start('tollgate'), start('apollo')]);
  });
  afterAll(async () => {
    await Promise.all([...gateways.values()].map((g) => g.close(100)));
    await Promise.all([catalog, stock].map((s) => s?.stop()));
  });

  const send = async (url: string, c: (typeof CASES)[number]) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: c.query, variables: c.variables, operationName: c.operationName }),
    });
    return { status: res.status, body: await res.text() };
  };

  for (const c of CASES) {
    it(c.name, async () => {
      const apollo = await send(apolloUrl, c);
      const fast = await send(fastUrl, c);
      expect(fast).toEqual(apollo);
      // the comparison means something only if the case did reach the subgraphs or fail as intended
      expect(apollo.body.length).toBeGreaterThan(10);
    });
  }

  it('the fast path served every case but introspection, which Apollo ran', async () => {
    const stats = gateways.get('tollgate')!.executorStats!;
    const before = { ...stats };
    const reached: string[] = [];
    for (const c of CASES) {
      const fast = stats.fast;
      await send(fastUrl, c);
      if (stats.fast > fast) reached.push(c.name);
    }
    // Apollo Server refuses validation and variable errors before any executor runs; introspection is the
    // one case left to Apollo's executor.
    const notFast = ['a variable of the wrong type', 'introspection (left to Apollo)', 'validation error'];
    expect(CASES.map((c) => c.name).filter((n) => !reached.includes(n))).toEqual(notFast);
    expect(stats.apollo - before.apollo).toBe(1);
    expect(gateways.get('apollo')!.executorStats).toBeUndefined();
  });
});
