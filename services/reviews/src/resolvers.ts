import { BadUserInputError, type Resolvers, type SubgraphContext, UnauthenticatedError } from '@tollgate/kit';
import { REVIEW_COLUMNS, type ReviewRow, type ReviewsLoaders } from './loaders.ts';

type Context = SubgraphContext<ReviewsLoaders>;

interface AddReviewArgs {
  upc: string;
  body: string;
  rating: number;
}

export const resolvers: Resolvers<Context> = {
  Mutation: {
    addReview: async (_: unknown, args: AddReviewArgs, { db, loaders, userId }: Context) => {
      // The gateway enforces @authenticated first; this keeps an API key or a direct call from writing as nobody.
      if (userId === undefined) throw new UnauthenticatedError('addReview needs a signed-in user');
      if (!Number.isInteger(args.rating) || args.rating < 1 || args.rating > 5) {
        throw new BadUserInputError('rating must be between 1 and 5');
      }
      if (args.body.trim() === '') throw new BadUserInputError('body must not be empty');
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
    // Other subgraphs own users and products; hand the gateway references to resolve there.
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
