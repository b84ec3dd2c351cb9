import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { actualCost, buildCostModel, type EstimateOptions, estimateCost } from './index.ts';
import { bookSdl, CATALOG_SDL, PRODUCTS_SDL } from './test-fixtures.ts';

const products = buildCostModel(PRODUCTS_SDL);
const catalog = buildCostModel(CATALOG_SDL);
const books = buildCostModel(bookSdl(5));

const PRODUCTS_QUERY =
  '{ products(first: 10) { edges { node { title variants { price } } } pageInfo { hasNextPage } } }';

function connection(edges: number, variants: number): unknown {
  return {
    products: {
      edges: Array.from({ length: edges }, (_, i) => ({
        node: { title: `p${i}`, variants: Array.from({ length: variants }, () => ({ price: 1 })) },
      })),
      pageInfo: { hasNextPage: false },
    },
  };
}

function both(model: typeof products, query: string, data: unknown, options?: EstimateOptions) {
  const document = parse(query);
  return {
    estimated: estimateCost(model, document, options),
    actual: actualCost(model, document, data, options),
  };
}

describe('actualCost', () => {
  it('equals the estimate when every list is as long as estimated', () => {
    expect(both(products, PRODUCTS_QUERY, connection(10, 5))).toEqual({ estimated: 72, actual: 72 });
  });

  it('is smaller for shorter lists', () => {
    // products 1 + edges 3 × (edge 1 + node (1 + variants 2 × 1)) + pageInfo 1 = 14.
    expect(actualCost(products, parse(PRODUCTS_QUERY), connection(3, 2))).toBe(14);
    expect(actualCost(products, parse(PRODUCTS_QUERY), connection(0, 5))).toBe(2);
  });

  it('charges nothing at or below a null', () => {
    const document = parse(PRODUCTS_QUERY);
    expect(actualCost(products, document, { products: null })).toBe(0);
    expect(actualCost(products, document, null)).toBe(0);
    const nullNodes = { products: { edges: [{ node: null }, { node: null }], pageInfo: null } };
    expect(actualCost(products, document, nullNodes)).toBe(3);
  });

  it('reads aliased fields and counts each alias', () => {
    const query = `{
      a: products(first: 1) { edges { node { title } } }
      b: products(first: 2) { e: edges { node { title } } }
    }`;
    const data = {
      a: { edges: [{ node: { title: 'x' } }] },
      b: { e: [{ node: { title: 'y' } }, { node: { title: 'z' } }] },
    };
    expect(both(products, query, data)).toEqual({ estimated: 8, actual: 8 });
  });

  it('keeps the mutation base and argument costs', () => {
    const document = parse('mutation { addReview(input: { bookId: 1 }) { id } }');
    expect(actualCost(books, document, { addReview: { id: '1' } })).toBe(12);
    expect(actualCost(books, document, { addReview: null })).toBe(11);
    expect(actualCost(catalog, parse('{ books(filter: { title: "a" }) { title } }'), { books: [] })).toBe(1);
  });

  it('uses the returned type for fragments on abstract types', () => {
    const query = `{ search { __typename id ... on Book { author { name } } ... on Movie { director { name } cast { name } } } }`;
    const data = {
      search: [
        { __typename: 'Book', id: '1', author: { name: 'a' } },
        { __typename: 'Movie', id: '2', director: { name: 'd' }, cast: [{ name: 'c' }] },
      ],
    };
    // Book 1 + 3, Movie 1 + director 1 + cast 1; the estimate assumes two of the dearest (Movie, 5).
    expect(both(catalog, query, data)).toEqual({ estimated: 10, actual: 7 });
    const untyped = '{ search { id ... on Book { author { name } } ... on Movie { director { name } } } }';
    const untypedData = {
      search: [
        { id: '1', author: { name: 'a' } },
        { id: '2', director: { name: 'd' } },
      ],
    };
    expect(actualCost(catalog, parse(untyped), untypedData)).toBe(6);
  });

  it('applies @skip/@include from variables as the estimate does', () => {
    const query = 'query($s: Boolean!) { book(id: 1) { author @skip(if: $s) { name } } }';
    const data = { book: { author: { name: 'x' } } };
    expect(actualCost(catalog, parse(query), data, { variables: { s: true } })).toBe(1);
    expect(actualCost(catalog, parse(query), data, { variables: { s: false } })).toBe(4);
  });
});

describe('actualCost on weighted leaves', () => {
  const sdl = `
    directive @cost(weight: Int!) on ARGUMENT_DEFINITION | ENUM | FIELD_DEFINITION | INPUT_FIELD_DEFINITION | OBJECT | SCALAR
    directive @listSize(assumedSize: Int, slicingArguments: [String!], sizedFields: [String!], requireOneSlicingArgument: Boolean = true) on FIELD_DEFINITION
    type Query { items: [Item] @listSize(assumedSize: 2) }
    type Item {
      id: ID
      price: Int @cost(weight: 2)
      tags: [String] @cost(weight: 3)
      stars(scale: Int @cost(weight: 4)): Int
    }
  `;
  const model = buildCostModel(sdl);
  const query = '{ items { id price tags stars(scale: 1) } }';

  it('charges a weighted leaf when not null, a weighted list of leaves per item, arguments always', () => {
    const data = {
      items: [
        { id: '1', price: 5, tags: ['a', 'b'], stars: null },
        { id: '2', price: null, tags: null, stars: 3 },
      ],
    };
    // item 1: 1 + price 2 + tags 2 × 3 + stars' argument 4 = 13; item 2: 1 + stars' argument 4 = 5
    expect(actualCost(model, parse(query), data)).toBe(18);
  });

  it('equals the estimate when every value is there', () => {
    // an unsized list is estimated at the default size, 10
    const item = { id: '1', price: 5, tags: Array.from({ length: 10 }, () => 't'), stars: 1 };
    // 2 items × (1 + price 2 + tags 10 × 3 + stars' argument 4)
    expect(both(model, query, { items: [item, item] })).toEqual({ estimated: 74, actual: 74 });
  });
});
