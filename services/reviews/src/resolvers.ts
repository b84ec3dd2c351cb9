import { BadUserInputError, type Resolvers, type SubgraphContext } from '@tollgate/kit';
import { REVIEW_COLUMNS, type ReviewRow, type ReviewsLoaders } from './loaders.ts';

type Context = SubgraphContext<ReviewsLoaders>;

interface AddReviewArgs {
  upc: string;
  body: string;
  rating: number;
}

// TODO(#3): drop the fallback author once every request carries a verified principal.
const ANONYMOUS_AUTHOR = '1';

export const resolvers: Resolvers<Context> = {
  Mutation: {
    addReview: async (_: unknown, args: AddReviewArgs, { db, userId }: Context) => {
      if (!Number.isInteger(args.rating) || args.rating < 1 || args.rating > 5) {
        throw new BadUserInputError('rating must be between 1 and 5');
      }
      if (args.body.trim() === '') throw new BadUserInputError('body must not be empty');
      const [row] = await db.query<ReviewRow>(
        `INSERT INTO reviews.reviews (product_upc, author_id, body, rating)
         VALUES ($1, $2, $3, $4) RETURNING ${REVIEW_COLUMNS}`,
        [args.upc, userId ?? ANONYMOUS_AUTHOR, args.body, args.rating],
      );
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
