import { loadOne } from '@tollgate/kit';

export interface StockRow {
  upc: string;
  quantity: number;
}

export const loaders = {
  stockByUpc: loadOne<StockRow>({
    sql: 'SELECT upc, quantity FROM inventory.stock WHERE upc = ANY($1)',
    key: 'upc',
  }),
};

export type InventoryLoaders = typeof loaders;
