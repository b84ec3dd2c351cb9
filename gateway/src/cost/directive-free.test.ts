import { readFileSync } from 'node:fs';
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { GatewayConfigObject } from '../config/schema.ts';
import { composeSupergraph } from '../supergraph/index.ts';
import { declaresCostDirectives } from './cost-model.ts';
import { buildCostModel, estimateCost } from './index.ts';
import { COST_DIRECTIVES } from './test-fixtures.ts';

// The production defaults, as the config schema fills them in for a config that says nothing about cost.
const defaults = GatewayConfigObject.shape.cost.parse(undefined);
const fromConfig = {
  defaultListSize: defaults.defaultListSize,
  directiveFreeListSize: defaults.directiveFreeListSize,
};

// An ordinary federation of two subgraphs that never heard of @cost or @listSize.
const POSTS = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
  type Query { posts: [Post!]! users: [User!]! }
  type Post @key(fields: "id") { id: ID! title: String! comments: [Comment!]! }
  type Comment { id: ID! body: String! author: User! }
  type User @key(fields: "id") { id: ID! }
`;
const PEOPLE = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
  type User @key(fields: "id") { id: ID! name: String! posts: [Post!]! }
  type Post @key(fields: "id") { id: ID! }
`;
const compose = (posts: string) =>
  composeSupergraph([
    { name: 'posts', url: 'http://posts/graphql', sdl: posts },
    { name: 'people', url: 'http://people/graphql', sdl: PEOPLE },
  ]);
const directiveFree = buildCostModel(compose(POSTS));

/** Three and four nested lists, the shapes that cost 1110–12110 at 10 items per list. */
const THREE_LISTS = '{ posts { title comments { body author { name posts { title } } } } }';
const FOUR_LISTS = '{ users { posts { comments { author { posts { title } } } } } }';
const TWO_LISTS = '{ posts { comments { body } } }';

const cost = (model: typeof directiveFree, query: string, options = fromConfig) =>
  estimateCost(model, parse(query), options);

describe('a supergraph that applies no @cost or @listSize', () => {
  it('is recognised as such, even composed (join and link directives are not cost directives)', () => {
    expect(declaresCostDirectives(directiveFree)).toBe(false);
  });

  it.each([
    // query, at the default of 1 per list, at 10 per list (the old rule)
    [TWO_LISTS, 1 * (1 + 1 * 1), 10 * (1 + 10 * 1)],
    [THREE_LISTS, 1 * (1 + 1 * (1 + 1 + 1 * 1)), 10 * (1 + 10 * (1 + 1 + 10 * 1))],
    [FOUR_LISTS, 1 * (1 + 1 * (1 + 1 * (1 + 1 + 1 * 1))), 10 * (1 + 10 * (1 + 10 * (1 + 1 + 10 * 1)))],
  ])('prices %s by its shape under the default config, under maxCost', (query, atDefault, atTen) => {
    expect(cost(directiveFree, query)).toBe(atDefault);
    expect(atDefault).toBeLessThanOrEqual(defaults.maxCost);
    // the same query at 10 per list, which the default used to be: refused from three lists on
    expect(cost(directiveFree, query, { ...fromConfig, directiveFreeListSize: 10 })).toBe(atTen);
  });

  it('refuses nothing a default budget cannot pay twice: 3 and 4 lists cost 4 and 5', () => {
    expect(cost(directiveFree, THREE_LISTS)).toBe(4);
    expect(cost(directiveFree, FOUR_LISTS)).toBe(5);
    expect(cost(directiveFree, THREE_LISTS, { ...fromConfig, directiveFreeListSize: 10 })).toBe(1210);
    expect(cost(directiveFree, FOUR_LISTS, { ...fromConfig, directiveFreeListSize: 10 })).toBe(12110);
  });

  it('ignores defaultListSize, which is for annotated supergraphs', () => {
    expect(cost(directiveFree, THREE_LISTS, { defaultListSize: 50, directiveFreeListSize: 1 })).toBe(4);
  });

  it('still adds the mutation base and argument costs', () => {
    const model = buildCostModel(`
      type Query { posts: [Post!]! }
      type Mutation { publish(input: PostInput!): [Post!]! }
      input PostInput { title: String! }
      type Post { title: String! }
    `);
    expect(declaresCostDirectives(model)).toBe(false);
    expect(cost(model, 'mutation { publish(input: { title: "x" }) { title } }')).toBe(10 + 1 + 1);
  });
});

describe('a supergraph that applies cost directives keeps the strict rule', () => {
  it('one @listSize anywhere makes every other list count defaultListSize (10)', () => {
    const annotated = buildCostModel(
      compose(
        POSTS.replace('"@key"]', '"@key", "@listSize"]').replace(
          'title: String! comments',
          'title: String! tags: [String!]! @listSize(assumedSize: 3) comments',
        ),
      ),
    );
    expect(declaresCostDirectives(annotated)).toBe(true);
    expect(cost(annotated, THREE_LISTS)).toBe(1210);
    expect(cost(annotated, THREE_LISTS) > defaults.maxCost).toBe(true);
  });

  it('a schema that only defines the directives, without applying them, is directive-free', () => {
    const model = buildCostModel(`${COST_DIRECTIVES} type Query { a: [A] } type A { b: [A] }`);
    expect(declaresCostDirectives(model)).toBe(false);
    expect(cost(model, '{ a { b { b { __typename } } } }')).toBe(3);
  });

  it('the sample supergraph is priced and refused exactly as before', () => {
    const sample = buildCostModel(
      composeSupergraph(
        ['accounts', 'products', 'inventory', 'reviews'].map((name) => ({
          name,
          url: `http://${name}/graphql`,
          sdl: readFileSync(new URL(`../../../services/${name}/schema.graphql`, import.meta.url), 'utf8'),
        })),
      ),
    );
    expect(declaresCostDirectives(sample)).toBe(true);
    const readme = (first: number) =>
      `{ topProducts(first: ${first}) { upc name price inStock shippingEstimate reviews { body author { username reviews { product { name } } } } } }`;
    expect(cost(sample, readme(5))).toBe(5 * (1 + 5 * (1 + 1 + 10 * (1 + 1)))); // 555
    expect(cost(sample, readme(10))).toBe(1110); // over the default maximum of 1000: refused
    expect(cost(sample, readme(10)) > defaults.maxCost).toBe(true);
    // directiveFreeListSize does not apply to it
    expect(cost(sample, readme(10), { ...fromConfig, directiveFreeListSize: 0 })).toBe(1110);
  });
});
