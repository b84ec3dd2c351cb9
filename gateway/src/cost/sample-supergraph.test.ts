import { readFileSync } from 'node:fs';
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { composeSupergraph } from '../supergraph/index.ts';
import { buildCostModel, estimateCost } from './index.ts';

// The sample supergraph as npm start composes it. Annotations: topProducts slices on `first` (default 5),
// Product.reviews is assumed to hold 5 reviews and User.reviews 10; objects cost 1, scalars 0, mutations 10.
const sdl = composeSupergraph(
  ['accounts', 'products', 'inventory', 'reviews'].map((name) => ({
    name,
    url: `http://${name}/graphql`,
    sdl: readFileSync(new URL(`../../../services/${name}/schema.graphql`, import.meta.url), 'utf8'),
  })),
);
const model = buildCostModel(sdl);

const cases: [string, string, Record<string, unknown> | undefined, number][] = [
  ['default slicing argument', '{ topProducts { upc } }', undefined, 5],
  [
    'literal slicing argument, scalars are free',
    '{ topProducts(first: 3) { upc name price } }',
    undefined,
    3,
  ],
  ['nested assumed list', '{ topProducts(first: 2) { reviews { body } } }', undefined, 2 * (1 + 5)],
  [
    'three levels',
    '{ topProducts(first: 2) { reviews { author { username } } } }',
    undefined,
    2 * (1 + 5 * (1 + 1)),
  ],
  [
    'aliases add up',
    '{ a: topProducts(first: 1) { upc } b: topProducts(first: 4) { upc } }',
    undefined,
    1 + 4,
  ],
  [
    'named fragment',
    'query { topProducts(first: 2) { ...P } } fragment P on Product { upc reviews { id } }',
    undefined,
    2 * (1 + 5),
  ],
  ['inline fragment', '{ product(upc: "000001") { ... on Product { name inStock } } }', undefined, 1],
  ['variable slicing argument', 'query($n: Int) { topProducts(first: $n) { upc } }', { n: 7 }, 7],
  ['literal @skip', '{ topProducts(first: 2) { upc reviews @skip(if: true) { id } } }', undefined, 2],
  [
    'variable @include false',
    'query($r: Boolean!) { topProducts(first: 2) { reviews @include(if: $r) { id } } }',
    { r: false },
    2,
  ],
  [
    'variable @include true',
    'query($r: Boolean!) { topProducts(first: 2) { reviews @include(if: $r) { id } } }',
    { r: true },
    12,
  ],
  [
    'user → reviews → product → reviews → author',
    '{ user(id: "1") { reviews { product { reviews { author { name } } } } } }',
    undefined,
    1 + 10 * (1 + 1 + 5 * (1 + 1)),
  ],
  [
    'mutation base 10',
    'mutation { addReview(upc: "000001", body: "x", rating: 5) { id } }',
    undefined,
    10 + 1,
  ],
  ['@requires fields are scalars', '{ topProducts(first: 2) { __typename shippingEstimate } }', undefined, 2],
  [
    'the README sample query',
    '{ topProducts(first: 5) { upc name price inStock shippingEstimate reviews { body author { username reviews { product { name } } } } } }',
    undefined,
    5 * (1 + 5 * (1 + 1 + 10 * (1 + 1))),
  ],
];

describe('costs on the sample supergraph (hand-computed)', () => {
  it.each(cases)('%s', (_name, query, variables, expected) => {
    expect(estimateCost(model, parse(query), { variables })).toBe(expected);
  });
});
