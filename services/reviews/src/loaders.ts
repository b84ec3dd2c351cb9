import { loadMany } from '@tollgate/kit';

export interface ReviewRow {
  /** bigint arrives from pg as a string, which is what an ID is anyway. */
  id: string;
  product_upc: string;
  author_id: string;
  body: string;
  rating: number;
}

const COLUMNS = 'id, product_upc, author_id, body, rating';

export const loaders = {
  reviewsByProduct: loadMany<ReviewRow>({
    sql: `SELECT ${COLUMNS} FROM reviews.reviews WHERE product_upc = ANY($1) ORDER BY id`,
    key: 'product_upc',
  }),
  reviewsByAuthor: loadMany<ReviewRow>({
    sql: `SELECT ${COLUMNS} FROM reviews.reviews WHERE author_id = ANY($1) ORDER BY id`,
    key: 'author_id',
  }),
};

export type ReviewsLoaders = typeof loaders;

export const REVIEW_COLUMNS = COLUMNS;
