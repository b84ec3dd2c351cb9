import { loadOne } from '@tollgate/kit';

export interface ProductRow {
  upc: string;
  name: string;
  price: number;
  weight: number;
}

export const loaders = {
  productByUpc: loadOne<ProductRow>({
    sql: 'SELECT upc, name, price, weight FROM products.products WHERE upc = ANY($1)',
    key: 'upc',
  }),
};

export type ProductsLoaders = typeof loaders;
