import { BadUserInputError } from '@tollgate/kit';

/** The arguments of `addReview`, as GraphQL has already type-checked them. */
export interface AddReviewInput {
  upc: string;
  body: string;
  rating: number;
}

/** Longest review body, in characters (Unicode code points, so an emoji counts once). */
export const MAX_BODY_LENGTH = 2000;

/**
 * A upc as the products subgraph issues them: six digits, zero-padded ("000001"). Checking the shape
 * here keeps typos out of the table; whether such a product exists is the products subgraph's to say,
 * and `Review.product` is nullable for the one that does not.
 */
export const UPC_PATTERN = /^[0-9]{6}$/;

/**
 * Every rule `input` breaks, one sentence each naming the argument; empty when the input is good.
 * Pure, so the rules can be tested without a database.
 */
export function addReviewProblems(input: AddReviewInput): string[] {
  const problems: string[] = [];
  if (!UPC_PATTERN.test(input.upc)) {
    problems.push(`upc must be 6 digits like "000001", got ${JSON.stringify(input.upc.slice(0, 40))}`);
  }
  if (!Number.isInteger(input.rating) || input.rating < 1 || input.rating > 5) {
    problems.push(`rating must be an integer from 1 to 5, got ${input.rating}`);
  }
  if (input.body.trim() === '') {
    problems.push('body must not be blank');
  } else {
    const length = [...input.body].length;
    if (length > MAX_BODY_LENGTH) {
      problems.push(`body must be at most ${MAX_BODY_LENGTH} characters, got ${length}`);
    }
  }
  return problems;
}

/** Throws one `BAD_USER_INPUT` error listing every broken rule, before anything is written. */
export function assertValidAddReview(input: AddReviewInput): void {
  const problems = addReviewProblems(input);
  if (problems.length > 0) throw new BadUserInputError(`Invalid addReview input: ${problems.join('; ')}`);
}
