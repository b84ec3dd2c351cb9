import { type Resolvers, type SubgraphContext, UnauthenticatedError } from '@tollgate/kit';
import { REVIEW_COLUMNS, type ReviewRow, type ReviewsLoaders } from './loaders.ts';
import { type AddReviewInput, assertValidAddReview } from './validate.ts';

type Context = SubgraphContext<ReviewsLoaders>;

export const resolvers: Resolvers<Context> = {
  Mutation: {
    addReview: async (_: unknown, args: AddReviewInput, { db, loaders, userId }: Context) => {
      // The gateway enforces @authenticated first; this keeps an API key or a direct call from writing as nobody.
      if (userId === undefined) throw new UnauthenticatedError('addReview needs a signed-in user');
      // Before any SQL: bad input is refused without a write (the table's CHECK is only the last line).
      assertValidAddReview(args);
      const [row] = await db.query<ReviewRow>(
        `INSERT INTO reviews.reviews (product_upc, author_id, body, rating)
         VALUES ($1, $2, $3, $4) RETURNING ${REVIEW_COLUMNS}`,
        [args.upc, userId, args.body, args.rating],
      );
      if (!row) throw new Error('INSERT … RETURNING returned no row');
      // Database first, then the cache, and only then the answer: once the client sees the new review,
      // no replica can serve either list without it.
      await Promise.all([
        loaders.reviewsByProduct.invalidate(row.product_upc),
        loaders.reviewsByAuthor.invalidate(row.author_id),
      ]);
      return row;
    },
  },
  Review: {
    // Other subgraphs own users and products; hand the gateway references to resolve there. Both fields
    // are nullable: when the owner does not know the id, the gateway nulls this field only.
    author: (review: ReviewRow) => ({ __typename: 'User', id: review.author_id }),
    product: (review: ReviewRow) => ({ __typename: 'Product', upc: review.product_upc }),
  },
  User: {
    reviews: (user: { id: string }, _: unknown, { loaders }: Context) =>
      loaders.reviewsByAuthor.load(user.id),
  },
  Product: {
    reviews: (product: { upc: string }, _: unknown, { loaders }: Context) =>
      loaders.reviewsByProduct.load(product.upc),
  },
};
