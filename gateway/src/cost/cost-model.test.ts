import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { buildCostModel, CostAnalysisError, estimateCost } from './index.ts';
import { COST_DIRECTIVES } from './test-fixtures.ts';

const PRODUCTS_SUBGRAPH = /* GraphQL */ `
  extend schema
    @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@cost", "@listSize", "@authenticated"])
  type Query {
    products(first: Int): [Product!]! @listSize(slicingArguments: ["first"], requireOneSlicingArgument: false)
  }
  type Product @key(fields: "id") @cost(weight: 5) {
    id: ID!
    price: Int @cost(weight: 2)
    secret: String @authenticated
  }
`;

const REVIEWS_SUBGRAPH = /* GraphQL */ `
  extend schema
    @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@cost", "@listSize", "@external", "@requires"])
  type Product @key(fields: "id") {
    id: ID!
    price: Int @external
    label: String @requires(fields: "price")
    reviews(first: Int = 3): [Review!]! @listSize(slicingArguments: ["first"])
  }
  type Review { body: String stars(scale: Int @cost(weight: 4)): Int }
`;

function supergraph(): string {
  const result = composeServices([
    { name: 'products', url: 'http://products', typeDefs: parse(PRODUCTS_SUBGRAPH) },
    { name: 'reviews', url: 'http://reviews', typeDefs: parse(REVIEWS_SUBGRAPH) },
  ]);
  if (result.errors) throw new Error(result.errors.map((e) => e.message).join('\n'));
  return result.supergraphSdl;
}

describe('buildCostModel on a composed Federation 2.9 supergraph', () => {
  const sdl = supergraph();
  const model = buildCostModel(sdl);

  it('is built from a supergraph that carries a for: SECURITY link', () => {
    expect(sdl).toMatch(/authenticated\/v0\.1", for: SECURITY/);
    expect(sdl).toMatch(/specs\.apollo\.dev\/cost\/v0\.1/);
  });

  it('reads @cost weights on types, fields and arguments', () => {
    expect(model.weights.get('Product')).toBe(5);
    expect(model.weights.get('Product.price')).toBe(2);
    expect(model.weights.get('Review.stars(scale:)')).toBe(4);
  });

  it('reads @listSize with its defaults', () => {
    expect(model.listSizes.get('Query.products')).toEqual({
      assumedSize: undefined,
      slicingArguments: ['first'],
      sizedFields: [],
      requireOneSlicingArgument: false,
    });
    expect(model.listSizes.get('Product.reviews')?.requireOneSlicingArgument).toBe(true);
  });

  it('estimates with the weights, list sizes and @requires selections', () => {
    // Per product: type 5 + price 2 + label (0 + requires price 2) + reviews 3 × (1 + stars arg 4) = 24.
    const query = parse('{ products(first: 2) { price label reviews { body stars(scale: 5) } } }');
    expect(estimateCost(model, query)).toBe(48);
    // Without a slicing argument the optional rule falls back to the default list size.
    expect(estimateCost(model, parse('{ products { id } }'), { defaultListSize: 4 })).toBe(20);
  });
});

describe('buildCostModel directive names', () => {
  it('follows @link(as:) and renamed imports, ignoring same-named decoys', () => {
    const model = buildCostModel(/* GraphQL */ `
      extend schema
        @link(url: "https://specs.apollo.dev/link/v1.0")
        @link(url: "https://specs.apollo.dev/cost/v0.1", as: "demand", import: [{ name: "@listSize", as: "@size" }])
      directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA
      scalar link__Import
      enum link__Purpose { SECURITY EXECUTION }
      directive @demand(weight: Int!) on FIELD_DEFINITION | OBJECT
      directive @size(assumedSize: Int) on FIELD_DEFINITION
      directive @cost(weight: Int!) on FIELD_DEFINITION
      type Query { items: [Item] @size(assumedSize: 2) other: Item @cost(weight: 100) }
      type Item @demand(weight: 3) { id: ID }
    `);
    expect(estimateCost(model, parse('{ items { id } }'))).toBe(6);
    expect(estimateCost(model, parse('{ other { id } }'))).toBe(3);
  });

  it('reads a subgraph SDL through its federation imports', () => {
    const model = buildCostModel(/* GraphQL */ `
      extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: [{ name: "@cost", as: "@weight" }])
      type Query { item: Item @weight(weight: 9) other: Item @federation__listSize(assumedSize: 2) }
      type Item { id: ID }
    `);
    expect(model.weights.get('Query.item')).toBe(9);
    expect(model.listSizes.get('Query.other')?.assumedSize).toBe(2);
  });

  it('accepts the IBM string form of weight', () => {
    const model = buildCostModel(`
      directive @cost(weight: String!) on OBJECT
      type Query { item: Item }
      type Item @cost(weight: "2.0") { id: ID }
    `);
    expect(estimateCost(model, parse('{ item { id } }'))).toBe(2);
  });
});

describe('buildCostModel rejects SDL it cannot read', () => {
  it.each([
    ['unparsable SDL', 'type Query {'],
    ['a schema without a query type', 'type Item { id: ID }'],
    ['a negative assumedSize', `${COST_DIRECTIVES} type Query { a: [Int] @listSize(assumedSize: -1) }`],
    [
      'a slicing argument the field lacks',
      `${COST_DIRECTIVES} type Query { a(n: Int): [Int] @listSize(slicingArguments: ["first"]) }`,
    ],
    ['a non-numeric weight', `${COST_DIRECTIVES} type Query { a: Int @cost(weight: "lots") }`],
  ])('%s', (_, sdl) => {
    expect(() => buildCostModel(sdl)).toThrow(CostAnalysisError);
    try {
      buildCostModel(sdl);
    } catch (error) {
      expect((error as CostAnalysisError).code).toBe('COST_SCHEMA_INVALID');
    }
  });
});
