import { BadUserInputError, type Resolvers, type SubgraphContext } from '@tollgate/kit';
import type { ProductsLoaders } from './loaders.ts';

type Context = SubgraphContext<ProductsLoaders>;

const MAX_FIRST = 1000;

export const resolvers: Resolvers<Context> = {
  Query: {
    topProducts: (_: unknown, { first }: { first: number }, { loaders }: Context) => {
      if (!Number.isInteger(first) || first < 0 || first > MAX_FIRST) {
        throw new BadUserInputError(`first must be between 0 and ${MAX_FIRST}`);
      }
      return loaders.topProducts.load(first);
    },
    product: (_: unknown, { upc }: { upc: string }, { loaders }: Context) => loaders.productByUpc.load(upc),
  },
  Product: {
    __resolveReference: (ref: { upc: string }, { loaders }: Context) => loaders.productByUpc.load(ref.upc),
  },
};
