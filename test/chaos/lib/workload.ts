import { SAMPLE_QUERY } from '../../fixtures/sample-query.ts';
import type { Operation } from './load.ts';

/** The operations of every chaos scenario's traffic. */
export const KIND = {
  /** The README's sample query over 3 products: products, inventory, reviews and accounts. */
  all: 'query (4 subgraphs)',
  /** Products, reviews and accounts only, so a fault in inventory shows whether it stays contained. */
  noInventory: 'query (no inventory)',
  /** `addReview`: one row in reviews.reviews per success. */
  mutation: 'mutation addReview',
} as const;

const NO_INVENTORY_QUERY = `query NoInventory($first: Int) {
  topProducts(first: $first) { upc name reviews { body author { username } } }
}`;
const ADD_REVIEW = `mutation AddReview($upc: String!, $body: String!) {
  addReview(upc: $upc, body: $body, rating: 4) { id }
}`;

/** User 100 reviews none of the first products, so the writes never grow what the sample query reads. */
export const WRITER_ID = '100';

type Kind = (typeof KIND)[keyof typeof KIND];

/** Half the sample query, a quarter the query without inventory, a quarter writes. */
export const MIX: readonly Kind[] = [KIND.all, KIND.noInventory, KIND.all, KIND.mutation];

/**
 * The operation for sequence number `seq`: the kinds of `mix` in turn. Each write carries a body unique
 * to this `tag` and `seq`, so the rows it leaves (or not) can be found afterwards with `bodyPrefix(tag)`.
 */
export function workload(tag: string, token: string, mix: readonly Kind[] = MIX): (seq: number) => Operation {
  return (seq) => {
    switch (mix[seq % mix.length]) {
      case KIND.noInventory:
        return {
          kind: KIND.noInventory,
          query: NO_INVENTORY_QUERY,
          variables: { first: 3 },
          mutation: false,
        };
      case KIND.mutation: {
        const body = `${bodyPrefix(tag)}${seq}`;
        return {
          kind: KIND.mutation,
          query: ADD_REVIEW,
          // products 200-249: outside what the queries read
          variables: { upc: String(200 + (seq % 50)).padStart(6, '0'), body },
          headers: { authorization: `Bearer ${token}` },
          mutation: true,
          id: body,
        };
      }
      default:
        return { kind: KIND.all, query: SAMPLE_QUERY, variables: { first: 3 }, mutation: false };
    }
  };
}

export const bodyPrefix = (tag: string): string => `chaos ${tag} #`;
