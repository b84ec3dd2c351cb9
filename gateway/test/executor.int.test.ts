// Tollgate's executor, with each planner, against a plain @apollo/gateway + @apollo/server over real HTTP
// on the same subgraphs: the same status and the same data for every request, Apollo's errors kept, and
// the non-null violations Apollo hides in extensions.valueCompletion reported in `errors` at their paths.
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { GraphQLError } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeSupergraph, createGateway, type Gateway, loadConfig } from '../src/index.ts';
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

interface Body {
  data?: unknown;
  errors?: { message: string; path?: unknown[]; extensions?: { code?: string } }[];
  extensions?: { valueCompletion?: { message: string; path?: unknown[] }[] };
}

/** Apollo's path (`@` for any index, cut at `_entities`) against a concrete one. */
function samePath(apollo: readonly unknown[], ours: readonly unknown[]): boolean {
  const cut = apollo.indexOf('_entities');
  const pattern = cut === -1 ? apollo : apollo.slice(0, cut);
  if (cut === -1 ? pattern.length !== ours.length : pattern.length > ours.length) return false;
  return pattern.every((p, i) => (p === '@' ? typeof ours[i] === 'number' : p === ours[i]));
}

describe.each(['hive', 'apollo'] as const)(
  'the Tollgate executor (%s planner) against Apollo Gateway',
  (planner) => {
    let catalog: TestSubgraph;
    let stock: TestSubgraph;
    let gateway: Gateway;
    let reference: ApolloServer;
    let url: string;
    let apolloUrl: string;

    beforeAll(async () => {
      [catalog, stock] = await Promise.all([
        startTestSubgraph(CATALOG_SDL, catalogResolvers),
        startTestSubgraph(STOCK_SDL, stockResolvers),
      ]);
      const config = loadConfig({
        base: {
          server: { port: 0, host: '127.0.0.1', introspection: true },
          supergraph: { planner },
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
      gateway = await createGateway({ config });
      url = await gateway.listen();
      const supergraphSdl = composeSupergraph([
        { name: 'catalog', url: catalog.url, sdl: CATALOG_SDL },
        { name: 'stock', url: stock.url, sdl: STOCK_SDL },
      ]);
      reference = new ApolloServer({ gateway: new ApolloGateway({ supergraphSdl }) });
      apolloUrl = (await startStandaloneServer(reference, { listen: { port: 0, host: '127.0.0.1' } })).url;
    });
    afterAll(async () => {
      await gateway?.close(100);
      await reference?.stop();
      await Promise.all([catalog, stock].map((s) => s?.stop()));
    });

    const send = async (to: string, c: (typeof CASES)[number]) => {
      const res = await fetch(to, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: c.query, variables: c.variables, operationName: c.operationName }),
      });
      return { status: res.status, body: (await res.json()) as Body };
    };

    for (const c of CASES) {
      it(c.name, async () => {
        const apollo = await send(apolloUrl, c);
        const ours = await send(url, c);
        expect(ours.status).toBe(apollo.status);
        expect(ours.body.data).toEqual(apollo.body.data);
        expect(ours.body.extensions?.valueCompletion).toBeUndefined();
        if (apollo.status !== 200) return; // refused before execution: the gateways' plugins differ there
        // every error Apollo gives, and every null Apollo leaves unexplained, has an error of ours at that
        // path (Apollo's `@` entity paths match each concrete entity path; Tollgate masks unknown codes, so
        // messages are not compared); every other error of ours is a non-null violation Apollo dropped
        const ourPaths = (ours.body.errors ?? []).map((e) => e.path ?? []);
        const theirs = [...(apollo.body.errors ?? []), ...(apollo.body.extensions?.valueCompletion ?? [])];
        for (const e of theirs) expect(ourPaths.some((p) => samePath(e.path ?? [], p))).toBe(true);
        for (const e of ours.body.errors ?? [])
          if (!theirs.some((t) => samePath(t.path ?? [], e.path ?? [])))
            expect(e.extensions?.code).toBe('SUBGRAPH_INVALID_RESPONSE');
      });
    }

    it('a subgraph refusing every entity: an error at each entity path, no second error for the nulls', async () => {
      const { body } = await send(url, { name: 'x', query: '{ products(first: 6) { id inStock failing } }' });
      // stock refuses the whole _entities field (p5 throws): each product gets the error at its path, inStock
      // (Boolean!) then nulls each product and, [Product!]! being non-null, the list and data
      expect(body.data).toBeNull();
      expect(body.errors?.map((e) => e.path)).toEqual([0, 1, 2, 3, 4, 5].map((i) => ['products', i]));
    });

    it('Tollgate served every case but introspection, which Apollo ran', async () => {
      const stats = gateway.executorStats;
      expect(stats.planner).toBe(planner);
      const before = { ...stats };
      const reached: string[] = [];
      for (const c of CASES) {
        const served = stats.tollgate;
        await send(url, c);
        if (stats.tollgate > served) reached.push(c.name);
      }
      // Apollo Server refuses validation and variable errors before any executor runs; introspection is the
      // one case left to Apollo's executor.
      const notOurs = ['a variable of the wrong type', 'introspection (left to Apollo)', 'validation error'];
      expect(CASES.map((c) => c.name).filter((n) => !reached.includes(n))).toEqual(notOurs);
      expect(stats.apollo - before.apollo).toBe(1);
    });
  },
);
