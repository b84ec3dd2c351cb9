import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { buildCostModel, CostAnalysisError, type EstimateOptions, estimateCost } from './index.ts';
import { bookSdl, CATALOG_SDL, PRODUCTS_SDL } from './test-fixtures.ts';

const books = buildCostModel(bookSdl());
const booksWithAddressCost = buildCostModel(bookSdl(5));
const products = buildCostModel(PRODUCTS_SDL);
const catalog = buildCostModel(CATALOG_SDL);

const SELECTION = '{ title author { name } publisher { name address { zipCode } } }';
const PRODUCTS_SELECTION = '{ edges { node { title variants { price } } } pageInfo { hasNextPage } }';

function cost(model: typeof books, query: string, options?: EstimateOptions): number {
  return estimateCost(model, parse(query), options);
}

function failure(run: () => unknown): CostAnalysisError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(CostAnalysisError);
    return error as CostAnalysisError;
  }
  throw new Error('expected a CostAnalysisError');
}

describe('cost oracles T-C1…T-C7 (docs/design.md#query-cost)', () => {
  it('T-C1: objects cost 1, scalars 0', () => {
    expect(cost(books, `query { book(id: 1) ${SELECTION} }`)).toBe(4);
  });

  it('T-C2: a type @cost applies to fields returning it', () => {
    expect(cost(booksWithAddressCost, `query { book(id: 1) ${SELECTION} }`)).toBe(8);
  });

  it('T-C3: assumedSize multiplies the list', () => {
    expect(cost(booksWithAddressCost, `query { bestsellers ${SELECTION} }`)).toBe(40);
  });

  it('T-C4: the slicing argument sizes the list', () => {
    expect(cost(booksWithAddressCost, `query { newestAdditions(limit: 3) ${SELECTION} }`)).toBe(24);
    expect(cost(booksWithAddressCost, `query { newestAdditions(limit: 7) ${SELECTION} }`)).toBe(56);
    expect(
      cost(booksWithAddressCost, `query($n: Int!) { newestAdditions(after: "x", limit: $n) ${SELECTION} }`, {
        variables: { n: 7 },
      }),
    ).toBe(56);
  });

  it('T-C5: sizedFields pushes the connection size down to edges', () => {
    expect(cost(products, `{ products(first: 10) ${PRODUCTS_SELECTION} }`)).toBe(72);
    expect(
      cost(products, `query($n: Int) { products(first: $n) ${PRODUCTS_SELECTION} }`, {
        variables: { n: 50 },
      }),
    ).toBe(352);
  });

  it.each([
    ['products(first: 10, last: 5)', 2],
    ['products', 0],
  ])('T-C6: %s is rejected by the exactly-one rule', (field, found) => {
    const error = failure(() => cost(products, `{ ${field} ${PRODUCTS_SELECTION} }`));
    expect(error.code).toBe('COST_QUERY_PARSE_FAILURE');
    expect(error.message).toBe(`Exactly one slicing argument is required, but found ${found}`);
    expect(error.coordinate).toBe('Query.products');
  });

  it('T-C7: mutations start at 10; an input object argument costs 1', () => {
    expect(cost(books, 'mutation { addReview(bookId: 1, stars: 5) { id } }')).toBe(11);
    expect(cost(books, 'mutation { addReview(input: { bookId: 1, stars: 5 }) { id } }')).toBe(12);
    expect(
      cost(books, 'mutation($r: ReviewInput) { addReview(input: $r) { id } }', {
        variables: { r: { bookId: '1', stars: 5 } },
      }),
    ).toBe(12);
  });
});

describe('field and type weights', () => {
  it.each([
    ['an unannotated list uses the default list size', '{ books { title } }', 10],
    ['a scalar @cost is charged', '{ book(id: 1) { price } }', 4],
    ['an enum @cost is charged', '{ book(id: 1) { sort } }', 3],
    ['a field @cost wins over its type @cost', '{ book(id: 1) { author { name } } }', 4],
    ['a type @cost applies without a field @cost', '{ book(id: 1) { coAuthor { name } } }', 8],
    ['a list of scalars costs nothing', '{ book(id: 1) { tags } }', 1],
    ['__typename is free under any alias', '{ book(id: 1) { __typename t: __typename } }', 1],
    ['introspection is free', '{ __schema { types { name } } __type(name: "Book") { name } }', 0],
    ['a mutation without a selection cost beyond its field', 'mutation { touch(id: 1) { id } }', 11],
  ])('%s', (_, query, expected) => {
    expect(cost(catalog, query)).toBe(expected);
  });

  it('uses the configured default list size', () => {
    expect(cost(catalog, '{ books { title } }', { defaultListSize: 3 })).toBe(3);
  });
});

describe('argument costs (rule 7)', () => {
  it.each([
    ['an enum argument costs its type weight', '{ books(sort: NEW) { title } }', 12],
    ['an input object costs 1', '{ books(filter: { title: "a" }) { title } }', 11],
    ['nested input objects add 1 each', '{ books(filter: { author: { name: "x" } }) { title } }', 12],
    [
      'a list sums its elements, each at its @cost',
      '{ books(filter: { and: [{ title: "a" }, { title: "b" }] }) { title } }',
      15,
    ],
    ['an argument @cost applies per list element', '{ books(ids: ["1", "2", "3"]) { title } }', 13],
    ['a single value for a list argument counts once', '{ books(ids: "1") { title } }', 11],
    ['null costs 0', '{ books(filter: null) { title } }', 10],
    ['a scalar argument @cost is charged', '{ search(term: "x") { id } }', 6],
  ])('%s', (_, query, expected) => {
    expect(cost(catalog, query)).toBe(expected);
  });

  it('scores variables from the request, missing ones as 0 and defaults when declared', () => {
    const query = 'query($f: BookFilter) { books(filter: $f) { title } }';
    expect(cost(catalog, query, { variables: { f: { author: { name: 'x' } } } })).toBe(12);
    expect(cost(catalog, query, { variables: { f: null } })).toBe(10);
    expect(cost(catalog, query)).toBe(10);
    expect(cost(catalog, 'query($s: Sort = NEW) { books(sort: $s) { title } }')).toBe(12);
    expect(cost(catalog, 'query($t: String) { books(filter: { title: $t }) { title } }')).toBe(11);
  });
});

describe('@skip and @include (rule 8)', () => {
  it('drops literal skips on fields and fragments', () => {
    const query = `{ book(id: 1) {
      author @skip(if: true) { name }
      coAuthor @include(if: false) { name }
      ... @include(if: false) { author { name } }
      ...Co @skip(if: true)
    } }
    fragment Co on Book { coAuthor { name } }`;
    expect(cost(catalog, query)).toBe(1);
    expect(cost(catalog, '{ book(id: 1) { author @skip(if: false) { name } } }')).toBe(4);
  });

  it('evaluates variable conditions', () => {
    const query =
      'query($s: Boolean!, $i: Boolean = true) { book(id: 1) { author @skip(if: $s) { name } coAuthor @include(if: $i) { name } } }';
    expect(cost(catalog, query, { variables: { s: true } })).toBe(8);
    expect(cost(catalog, query, { variables: { s: false, i: false } })).toBe(4);
    expect(cost(catalog, query, { variables: { s: false } })).toBe(11);
  });
});

describe('fragments', () => {
  it('sums named and inline fragments into the parent', () => {
    const query = `{ book(id: 1) { ...A ... on Book { coAuthor { name } } } }
      fragment A on Book { author { name } }`;
    expect(cost(catalog, query)).toBe(11);
  });

  it('takes the max over the possible types of an interface', () => {
    // Per item: Media 1 + max(Book: author 3, Movie: director 1 + cast 3×1) = 5; the Router's sum gives 8.
    const query = `{ search { id ... on Book { author { name } } ...M } }
      fragment M on Movie { director { name } cast { name } }`;
    expect(cost(catalog, query)).toBe(10);
  });

  it('takes the max over the members of a union', () => {
    const query = '{ results { ... on Book { author { name } } ... on Movie { director { name } } } }';
    expect(cost(catalog, query)).toBe(8);
    expect(cost(catalog, '{ results { ... on Media { id } __typename } }')).toBe(2);
  });

  it('counts a fragment on the abstract type itself for every type', () => {
    expect(cost(catalog, '{ search { ... on Media { id } } }')).toBe(2);
    expect(cost(catalog, '{ search { ...B } } fragment B on Book { author { name } }')).toBe(8);
  });
});

describe('list sizes', () => {
  it('falls back to the schema default when a slicing variable is not provided', () => {
    const query = `query($v: Int) { products(first: 2) { edges { node { variants(first: $v) { price } } } } }`;
    expect(cost(products, query)).toBe(15);
    expect(cost(products, query, { variables: { v: 1 } })).toBe(7);
    // An explicit null overrides the default, leaving no slicing argument at all.
    const error = failure(() => cost(products, query, { variables: { v: null } }));
    expect(error.message).toBe('Exactly one slicing argument is required, but found 0');
    expect(error.coordinate).toBe('Product.variants');
  });

  it('uses max over slicing arguments, then assumedSize, when exactly-one is off', () => {
    expect(cost(catalog, '{ items { id } }')).toBe(4);
    expect(cost(catalog, '{ items(first: 2, last: 6) { id } }')).toBe(6);
    expect(cost(catalog, '{ items(last: 1) { id } }')).toBe(1);
  });

  it('reads nested slicing arguments and never goes below zero', () => {
    // paged: 7 items × 1 + the PageInput object 1.
    expect(cost(catalog, '{ paged(page: { size: 7 }) { id } }')).toBe(8);
    expect(cost(catalog, '{ items(first: -5) { id } }')).toBe(0);
  });
});
