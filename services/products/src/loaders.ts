import { loadMany, loadOne } from '@tollgate/kit';

export interface ProductRow {
  upc: string;
  name: string;
  price: number;
  weight: number;
}

/** A row of `topProducts(first: top)`. */
export interface TopProductRow extends ProductRow {
  top: number;
}

const COLUMNS = 'upc, name, price, weight';

export const loaders = {
  productByUpc: loadOne<ProductRow>({
    sql: `SELECT ${COLUMNS} FROM products.products WHERE upc = ANY($1)`,
    key: 'upc',
    cache: { type: 'Product', ttlSec: 300 },
  }),
  // A list field keyed by its argument: one statement answers every `first` asked for in a tick, and
  // the lists are cached like any other one-to-many result.
  topProducts: loadMany<TopProductRow, number>({
    sql: `SELECT t.top, p.upc, p.name, p.price, p.weight
          FROM unnest($1::int[]) AS t(top)
          CROSS JOIN LATERAL (SELECT ${COLUMNS} FROM products.products ORDER BY upc LIMIT t.top) AS p
          ORDER BY t.top, p.upc`,
    key: 'top',
    cache: { type: 'Query.topProducts', ttlSec: 60 },
  }),
};

export type ProductsLoaders = typeof loaders;
