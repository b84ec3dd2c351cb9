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

// Both lists change with every addReview, which invalidates the two keys it touched.
export const loaders = {
  reviewsByProduct: loadMany<ReviewRow>({
    sql: `SELECT ${COLUMNS} FROM reviews.reviews WHERE product_upc = ANY($1) ORDER BY id`,
    key: 'product_upc',
    cache: { type: 'Product.reviews', ttlSec: 60 },
  }),
  reviewsByAuthor: loadMany<ReviewRow>({
    sql: `SELECT ${COLUMNS} FROM reviews.reviews WHERE author_id = ANY($1) ORDER BY id`,
    key: 'author_id',
    cache: { type: 'User.reviews', ttlSec: 60 },
  }),
};

export type ReviewsLoaders = typeof loaders;

export const REVIEW_COLUMNS = COLUMNS;
