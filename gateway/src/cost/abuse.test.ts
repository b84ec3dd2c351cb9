import type { DocumentNode } from 'graphql';
import { Kind, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import {
  actualCost,
  buildCostModel,
  CostAnalysisError,
  type EstimateOptions,
  estimateCost,
} from './index.ts';
import { CATALOG_SDL, PRODUCTS_SDL } from './test-fixtures.ts';

const catalog = buildCostModel(CATALOG_SDL);
const products = buildCostModel(PRODUCTS_SDL);

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(CostAnalysisError);
    return (error as CostAnalysisError).code;
  }
  throw new Error('expected a CostAnalysisError');
}

function settles(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(CostAnalysisError);
  }
}

function nested(depth: number): string {
  return `{ node ${'{ child '.repeat(depth - 1)}{ name }${' }'.repeat(depth - 1)} }`;
}

describe('abuse: documents that cannot be costed fail with a code, never a crash', () => {
  const cases: [string, string | DocumentNode, EstimateOptions?][] = [
    ['an unknown operation name', '{ book(id: 1) { title } }', { operationName: 'Nope' }],
    ['several operations and no name', 'query A { node { name } } query B { node { name } }'],
    ['no operation at all', 'fragment F on Node { name }'],
    ['an empty document', { kind: Kind.DOCUMENT, definitions: [] }],
    ['a field the schema lacks', '{ book(id: 1) { isbn } }'],
    ['an argument the schema lacks', '{ book(id: 1, edition: 2) { title } }'],
    ['an unknown fragment', '{ node { ...Missing } }'],
    [
      'a fragment spread within itself',
      '{ node { ...A } } fragment A on Node { ...B } fragment B on Node { ...A }',
    ],
    [
      'a cycle through a field',
      '{ node { ...A } } fragment A on Node { child { ...B } } fragment B on Node { ...A }',
    ],
    ['a subscription the schema lacks', 'subscription { node { name } }'],
    ['deep nesting', nested(600)],
  ];

  it.each(cases)('%s', (_, query, options) => {
    const document = typeof query === 'string' ? parse(query) : query;
    expect(codeOf(() => estimateCost(catalog, document, options))).toBe('COST_QUERY_PARSE_FAILURE');
    // actualCost walks only what `data` holds, so it may legitimately return 0 here; it must not crash.
    settles(() => actualCost(catalog, document, {}, options));
  });

  it('rejects a value that is not a document', () => {
    expect(codeOf(() => estimateCost(catalog, undefined as unknown as DocumentNode))).toBe(
      'COST_QUERY_PARSE_FAILURE',
    );
  });

  it('still costs nesting well inside the guard', () => {
    expect(estimateCost(catalog, parse(nested(100)))).toBe(100);
  });

  it.each([
    [
      'a string for an Int',
      'query($n: Int) { products(first: $n) { pageInfo { hasNextPage } } }',
      { n: 'ten' },
    ],
    [
      'a missing required variable',
      'query($n: Int!) { products(first: $n) { pageInfo { hasNextPage } } }',
      {},
    ],
    [
      'an unknown input field',
      'query($n: Int) { products(first: $n) { pageInfo { hasNextPage } } }',
      { n: { a: 1 } },
    ],
    [
      'variables that are not an object',
      'query($n: Int) { products(first: $n) { pageInfo { hasNextPage } } }',
      [1],
    ],
  ])('rejects variables of the wrong type: %s', (_, query, variables) => {
    const options = { variables: variables as Record<string, unknown> };
    expect(codeOf(() => estimateCost(products, parse(query), options))).toBe('COST_INVALID_VARIABLES');
  });

  it('rejects a wrongly typed literal slicing argument', () => {
    const document = parse('{ products(first: "ten") { pageInfo { hasNextPage } } }');
    expect(codeOf(() => estimateCost(products, document))).toBe('COST_QUERY_PARSE_FAILURE');
  });

  it('rejects a nonsensical default list size as a programming error', () => {
    expect(() => estimateCost(catalog, parse('{ books { title } }'), { defaultListSize: -1 })).toThrow(
      RangeError,
    );
    expect(() =>
      estimateCost(catalog, parse('{ books { title } }'), { defaultListSize: Number.NaN }),
    ).toThrow(RangeError);
  });

  it('costs a fragment bomb in linear time', () => {
    // Each fragment spreads the next one twice: 2^30 copies of `child` if expanded naively.
    const levels = 30;
    const fragments = Array.from({ length: levels }, (_, i) =>
      i + 1 < levels
        ? `fragment F${i} on Node { ...F${i + 1} ...F${i + 1} }`
        : `fragment F${i} on Node { child { name } }`,
    );
    const document = parse(`{ node { ...F0 } } ${fragments.join('\n')}`);
    const started = performance.now();
    expect(estimateCost(catalog, document)).toBe(1 + 2 ** (levels - 1));
    expect(actualCost(catalog, document, { node: { child: { name: 'x' } } })).toBe(1 + 2 ** (levels - 1));
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
