import type { Resolvers, SubgraphContext } from '@tollgate/kit';
import type { InventoryLoaders } from './loaders.ts';

type Context = SubgraphContext<InventoryLoaders>;

/** A representation as the gateway sends it; price and weight arrive only when @requires needs them. */
interface ProductRef {
  upc: string;
  price?: number;
  weight?: number;
}

const FREE_SHIPPING_ABOVE = 1000;

/** Pure, so the gateway-supplied fields are all it needs and it never touches SQL. */
export function shippingEstimate(price: number, weight: number): number {
  return price > FREE_SHIPPING_ABOVE ? 0 : Math.round(weight / 2);
}

export const resolvers: Resolvers<Context> = {
  Product: {
    // The representation is the entity; stock is loaded only when `inStock` is asked for, so a
    // request for shipping estimates alone sends no SQL.
    __resolveReference: (ref: ProductRef) => ref,
    inStock: async (product: ProductRef, _: unknown, { loaders }: Context) => {
      const stock = await loaders.stockByUpc.load(product.upc);
      return (stock?.quantity ?? 0) > 0;
    },
    shippingEstimate: (product: ProductRef) => {
      if (product.price === undefined || product.weight === undefined) {
        // Only a caller bypassing the gateway's query plan can get here.
        throw new Error('shippingEstimate needs price and weight in the representation');
      }
      return shippingEstimate(product.price, product.weight);
    },
  },
};
