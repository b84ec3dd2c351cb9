// Resolvers of the four sample subgraphs over static in-memory data: the same schemas and answers as
// services/*, with map lookups instead of SQL, so the subgraphs cost next to nothing under load.
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/index.js';
import { GraphQLError } from 'graphql';
import { type BenchData, shippingEstimate } from './data.ts';

export const SUBGRAPH_NAMES = ['products', 'inventory', 'reviews', 'accounts'] as const;
export type SubgraphName = (typeof SUBGRAPH_NAMES)[number];

interface Context {
  userId?: string | undefined;
}

// buildSubgraphSchema takes resolvers over an `unknown` context; the one resolver that reads it narrows.
type Resolvers = GraphQLResolverMap<unknown>;

/** A representation as the gateway sends it; price and weight only when @requires needs them. */
interface ProductRef {
  upc: string;
  price?: number;
  weight?: number;
}

const MAX_FIRST = 1000;

function badInput(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });
}

export function createResolvers(data: BenchData): Record<SubgraphName, Resolvers> {
  const products: Resolvers = {
    Query: {
      topProducts: (_: unknown, { first }: { first: number }) => {
        if (!Number.isInteger(first) || first < 0 || first > MAX_FIRST)
          throw badInput(`first must be between 0 and ${MAX_FIRST}`);
        return data.products.slice(0, first);
      },
      product: (_: unknown, { upc }: { upc: string }) => data.productByUpc.get(upc) ?? null,
    },
    Product: {
      __resolveReference: (ref: ProductRef) => data.productByUpc.get(ref.upc) ?? null,
    },
  };

  const inventory: Resolvers = {
    Product: {
      __resolveReference: (ref: ProductRef) => ref,
      inStock: (product: ProductRef) => (data.stockByUpc.get(product.upc) ?? 0) > 0,
      shippingEstimate: (product: ProductRef) => {
        if (product.price === undefined || product.weight === undefined) {
          throw new Error('shippingEstimate needs price and weight in the representation');
        }
        return shippingEstimate(product.price, product.weight);
      },
    },
  };

  const reviews: Resolvers = {
    Mutation: {
      // The bench data is shared by every request of a run: a write would make runs unrepeatable.
      addReview: () => {
        throw badInput('the benchmark subgraphs are read-only');
      },
    },
    Review: {
      author: (review: { authorId: string }) => ({ __typename: 'User', id: review.authorId }),
      product: (review: { productUpc: string }) => ({ __typename: 'Product', upc: review.productUpc }),
    },
    User: {
      reviews: (user: { id: string }) => data.reviewsByAuthor.get(user.id) ?? [],
    },
    Product: {
      reviews: (product: { upc: string }) => data.reviewsByProduct.get(product.upc) ?? [],
    },
  };

  const accounts: Resolvers = {
    Query: {
      me: (_: unknown, __: unknown, context: unknown) => {
        const { userId } = context as Context;
        return userId === undefined ? null : (data.userById.get(userId) ?? null);
      },
      user: (_: unknown, { id }: { id: string }) => data.userById.get(id) ?? null,
    },
    User: {
      __resolveReference: (ref: { id: string }) => data.userById.get(ref.id) ?? null,
    },
  };

  return { products, inventory, reviews, accounts };
}
