// The query mix of issue 10: one subgraph, the 3-level federated query, and the heavy one of the same shape.

export interface BenchQuery {
  id: 'one-subgraph' | '3-level' | 'heavy';
  title: string;
  query: string;
  /** `topProducts(first:)` of the query, for the expected data of the static profile. */
  first: number;
  /** One subgraph fetch, or the full 5-fetch plan (products → reviews ∥ inventory → products ∥ accounts). */
  shape: 'flat' | 'federated';
}

const selection = (first: number) =>
  `{ topProducts(first: ${first}) { upc name price weight inStock shippingEstimate reviews { id body author { id username name reviews { id body product { upc name } } } } } }`;

export const QUERIES: readonly BenchQuery[] = [
  {
    id: 'one-subgraph',
    title: 'one-subgraph query',
    query: '{ topProducts(first: 5) { upc name price } }',
    first: 5,
    shape: 'flat',
  },
  { id: '3-level', title: '3-level query', query: selection(5), first: 5, shape: 'federated' },
  { id: 'heavy', title: 'heavy query', query: selection(20), first: 20, shape: 'federated' },
];

export const requestBody = (q: BenchQuery): string => JSON.stringify({ query: q.query });
