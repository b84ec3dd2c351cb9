import { loadOne } from '@tollgate/kit';

export interface StockRow {
  upc: string;
  quantity: number;
}

export const loaders = {
  // Stock moves faster than catalogue data, and nothing here writes it yet: a short TTL bounds the lag.
  stockByUpc: loadOne<StockRow>({
    sql: 'SELECT upc, quantity FROM inventory.stock WHERE upc = ANY($1)',
    key: 'upc',
    cache: { type: 'Stock', ttlSec: 30 },
  }),
};

export type InventoryLoaders = typeof loaders;
