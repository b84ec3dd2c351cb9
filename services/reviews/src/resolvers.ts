import {
  createSubgraphLogger,
  type Resolvers,
  type SubgraphContext,
  UnauthenticatedError,
} from '@tollgate/kit';
import { REVIEW_COLUMNS, type ReviewRow, type ReviewsLoaders } from './loaders.ts';
import { type AddReviewInput, assertValidAddReview } from './validate.ts';

type Context = SubgraphContext<ReviewsLoaders>;

/** The pub/sub topic `addReview` publishes each inserted row to, and `reviewAdded` reads. */
export const REVIEW_ADDED = 'reviewAdded';
const log = createSubgraphLogger('reviews');

export const resolvers: Resolvers<Context> = {
  Mutation: {
    addReview: async (_: unknown, args: AddReviewInput, { db, loaders, pubsub, userId }: Context) => {
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
      // Then the event, so a subscriber that reads the lists on it sees the new review. The review is
      // written whatever happens here: a pub/sub outage costs subscribers this event, not the mutation.
      await pubsub.publish(REVIEW_ADDED, row).catch((err: unknown) => {
        log.error('reviewAdded not published', { review: row.id, error: (err as Error).message });
      });
      return row;
    },
  },
  Subscription: {
    reviewAdded: {
      subscribe: async (_: unknown, { upc }: { upc?: string | null }, { pubsub }: Context) => {
        const events = pubsub.subscribe<ReviewRow>(
          REVIEW_ADDED,
          upc == null ? {} : { filter: (row) => row.product_upc === upc },
        );
        try {
          // Only once the backend listens is the subscription live: nothing published after can be missed.
          await pubsub.listening();
        } catch (err) {
          await events.return?.();
          throw err;
        }
        return events;
      },
      // The event is the inserted row, so Review.author and Review.product resolve as for a query.
      resolve: (row: ReviewRow) => row,
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
