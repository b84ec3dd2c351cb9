import { buildSchema, operationFromDocument, type Schema } from '@apollo/federation-internals';
import { computeResponse } from '@apollo/gateway/dist/resultShaping.js';
import fc from 'fast-check';
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { shapeResponse } from './shape.ts';
import { compileShape } from './shape-compile.ts';

// An API schema with what shaping cares about: non-null and nullable fields, lists of both, interfaces,
// unions, enums, custom scalars, aliases and fragments.
const schema: Schema = buildSchema(`
  scalar JSON
  enum Kind { PHYSICAL DIGITAL }
  interface Node { id: ID! }
  type Product implements Node { id: ID! name: String! price: Int weight: Float kind: Kind tags: [String!] meta: JSON
    reviews: [Review] related: [Product!] }
  type Book implements Node { id: ID! title: String pages: Int! }
  type Review { id: ID! body: String author: User! stars: Int }
  type User implements Node { id: ID! name: String }
  union Result = Product | Book
  type Query { products: [Product!]! product: Product node: Node search: [Result] count: Int! flag: Boolean }
`);

const OPERATIONS: Record<string, { query: string; variables?: Record<string, unknown> }> = {
  plain: { query: '{ products { id name price weight kind tags meta } count flag }' },
  nested: {
    query:
      '{ product { id reviews { id body stars author { id name } } related { id name } } products { id } }',
  },
  aliasesAndFragments: {
    query: `query Q { a: products { ...F pid: id } b: product { id ... on Product { name n2: name } } }
            fragment F on Product { name price }`,
  },
  abstract: {
    query: `{ node { __typename id ... on Product { name kind } ... on Book { title pages } ... on User { name } }
              search { __typename ... on Node { id } ... on Product { price } ... on Book { pages } } }`,
  },
  typenames: { query: '{ __typename t: __typename product { __typename tn: __typename id } }' },
  skipInclude: {
    query: `query ($s: Boolean!, $i: Boolean = true) { products { id name @skip(if: $s) price @include(if: $i)
              weight @skip(if: false) kind @include(if: false) } product @include(if: $i) { id } }`,
    variables: { s: true },
  },
  skipIncludeOther: {
    query: `query ($s: Boolean!, $i: Boolean = true) { products { id name @skip(if: $s) price @include(if: $i) } }`,
    variables: { s: false, i: false },
  },
};

// Values that probe every branch: right and wrong leaf types, nulls, missing keys, unknown and abstract
// __typenames, wrong shapes.
const leaf = fc.oneof(
  fc.constant(null),
  fc.constant(undefined),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constantFrom('PHYSICAL', 'DIGITAL', 'OTHER', 'x', '12', ''),
  fc.constant({ nested: true }),
);
const typename = fc.constantFrom(
  undefined,
  'Product',
  'Book',
  'User',
  'Review',
  'Node',
  'Result',
  'Nope',
  'Query',
);

const entity: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  obj: fc.record(
    {
      __typename: typename,
      id: leaf,
      pid: leaf,
      name: leaf,
      n2: leaf,
      title: leaf,
      pages: leaf,
      price: leaf,
      weight: leaf,
      kind: leaf,
      tags: fc.oneof(fc.constant(null), fc.array(leaf, { maxLength: 3 }), leaf),
      meta: leaf,
      body: leaf,
      stars: leaf,
      reviews: fc.oneof(fc.constant(null), fc.array(tie('obj'), { maxLength: 3 })),
      related: fc.oneof(fc.constant(null), fc.array(tie('obj'), { maxLength: 2 })),
      author: fc.oneof(fc.constant(null), tie('obj')),
    },
    { requiredKeys: [] },
  ),
})).obj;

const rootData = fc.record(
  {
    __typename: typename,
    t: leaf,
    products: fc.oneof(fc.constant(null), fc.array(entity, { maxLength: 4 })),
    a: fc.oneof(fc.constant(null), fc.array(entity, { maxLength: 3 })),
    b: fc.oneof(fc.constant(null), entity),
    product: fc.oneof(fc.constant(null), entity),
    node: fc.oneof(fc.constant(null), entity),
    search: fc.oneof(fc.constant(null), fc.array(fc.oneof(fc.constant(null), entity), { maxLength: 3 })),
    count: leaf,
    flag: leaf,
  },
  { requiredKeys: [] },
);

type Outcome = { data?: string; errors?: string; threw?: boolean };

/** What a client would see: the JSON of data (key order included) and each error's message and path. */
function outcome(
  run: () => { data: unknown; errors: readonly { message: string; path?: unknown }[] },
): Outcome {
  try {
    const { data, errors } = run();
    return {
      data: JSON.stringify(data),
      errors: JSON.stringify(errors.map((e) => ({ message: e.message, path: e.path }))),
    };
  } catch {
    return { threw: true };
  }
}

describe('shapeResponse gives exactly what Apollo computeResponse gives', () => {
  for (const [name, { query, variables }] of Object.entries(OPERATIONS)) {
    it(`${name}: random subgraph data, same data, same errors, same failures`, () => {
      const operation = operationFromDocument(schema, parse(query), { validate: false });
      const shape = compileShape(operation);
      fc.assert(
        fc.property(rootData, (input) => {
          const data = JSON.parse(JSON.stringify(input)) as Record<string, unknown>;
          const theirs = outcome(() =>
            computeResponse({
              operation,
              variables,
              input: JSON.parse(JSON.stringify(data)),
              introspectionHandling: () => null,
            }),
          );
          const ours = outcome(() => shapeResponse(shape, JSON.parse(JSON.stringify(data)), variables));
          expect(ours).toEqual(theirs);
        }),
        { numRuns: 400 },
      );
    });
  }

  it('well-formed data comes out in the order the operation asks, without the extra keys', () => {
    const operation = operationFromDocument(schema, parse(OPERATIONS.aliasesAndFragments!.query), {
      validate: false,
    });
    const input = {
      b: { __typename: 'Product', name: 'B', id: '2', n2: 'B', extra: 1 },
      a: [{ pid: '1', price: 3, name: 'A', __typename: 'Product' }],
    };
    const { data, errors } = shapeResponse(compileShape(operation), input, undefined);
    expect(errors).toEqual([]);
    expect(JSON.stringify(data)).toBe(
      '{"a":[{"name":"A","price":3,"pid":"1"}],"b":{"id":"2","name":"B","n2":"B"}}',
    );
  });

  it('bubbles a null of a non-null field up to the nearest nullable parent, with one error', () => {
    const operation = operationFromDocument(schema, parse('{ product { id related { id name } } }'), {
      validate: false,
    });
    const input = { product: { id: '1', related: [{ id: '2', name: null }] } };
    const { data, errors } = shapeResponse(compileShape(operation), input, undefined);
    expect(data).toEqual({ product: { id: '1', related: null } });
    expect(errors.map((e) => [e.message, e.path])).toEqual([
      ['Cannot return null for non-nullable field Product.name.', ['product', 'related', 0, 'name']],
    ]);
  });

  it('marks operations with introspection for Apollo, and knows when variables matter', () => {
    const withIntrospection = compileShape(
      operationFromDocument(schema, parse('{ __schema { queryType { name } } count }'), { validate: false }),
    );
    expect(withIntrospection.hasIntrospection).toBe(true);
    const plain = compileShape(operationFromDocument(schema, parse('{ count }'), { validate: false }));
    expect([plain.hasIntrospection, plain.readsVariables]).toEqual([false, false]);
    const skip = compileShape(
      operationFromDocument(schema, parse(OPERATIONS.skipInclude!.query), { validate: false }),
    );
    expect(skip.readsVariables).toBe(true);
  });
});

describe('output objects', () => {
  it('are plain objects (fast to build and stringify) when no response name is an Object.prototype key', () => {
    const shape = compileShape(
      operationFromDocument(schema, parse('{ product { id reviews { id } } }'), { validate: false }),
    );
    expect(shape.plainObjects).toBe(true);
    const { data } = shapeResponse(shape, { product: { id: '1', reviews: [{ id: 'r' }] } }, undefined);
    expect(Object.getPrototypeOf(data)).toBe(Object.prototype);
    const product = data?.product as { reviews: object[] };
    expect(Object.getPrototypeOf(product.reviews[0])).toBe(Object.prototype);
  });

  it('shape response names such as constructor, toString and __proto__ as own keys', () => {
    const query =
      '{ product { constructor: id toString: name __proto__: price hasOwnProperty: reviews { valueOf: id } } }';
    const operation = operationFromDocument(schema, parse(query), { validate: false });
    const shape = compileShape(operation);
    expect(shape.plainObjects).toBe(false);
    const input = {
      product: JSON.parse(
        '{"constructor":"1","toString":"n","__proto__":3,"hasOwnProperty":[{"valueOf":"r"}]}',
      ) as unknown,
    };
    const { data, errors } = shapeResponse(shape, input, undefined);
    expect(errors).toEqual([]);
    expect(JSON.stringify(data)).toBe(
      '{"product":{"constructor":"1","toString":"n","__proto__":3,"hasOwnProperty":[{"valueOf":"r"}]}}',
    );
    const theirs = computeResponse({
      operation,
      variables: undefined,
      input: JSON.parse(JSON.stringify(input)),
      introspectionHandling: () => null,
    });
    expect(JSON.stringify(data)).toBe(JSON.stringify(theirs.data));
  });
});
