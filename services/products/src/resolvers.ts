import { BadUserInputError, type Resolvers, type SubgraphContext } from '@tollgate/kit';
import type { ProductRow, ProductsLoaders } from './loaders.ts';

type Context = SubgraphContext<ProductsLoaders>;

const MAX_FIRST = 1000;

export const resolvers: Resolvers<Context> = {
  Query: {
    topProducts: async (_: unknown, { first }: { first: number }, { db }: Context) => {
      if (!Number.isInteger(first) || first < 0 || first > MAX_FIRST) {
        throw new BadUserInputError(`first must be between 0 and ${MAX_FIRST}`);
      }
      return db.query<ProductRow>(
        'SELECT upc, name, price, weight FROM products.products ORDER BY upc LIMIT $1',
        [first],
      );
    },
    product: (_: unknown, { upc }: { upc: string }, { loaders }: Context) => loaders.productByUpc.load(upc),
  },
  Product: {
    __resolveReference: (ref: { upc: string }, { loaders }: Context) => loaders.productByUpc.load(ref.upc),
  },
};
