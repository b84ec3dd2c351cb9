import { describe, expect, it } from 'vitest';
import { type AddReviewInput, addReviewProblems, assertValidAddReview, MAX_BODY_LENGTH } from './validate.ts';

const good: AddReviewInput = { upc: '000001', body: 'Sturdy.', rating: 4 };

describe('addReview input rules', () => {
  it.each([
    ['the seeded shape of upc', good],
    ['rating 1', { ...good, rating: 1 }],
    ['rating 5', { ...good, rating: 5 }],
    ['a body of exactly the maximum length', { ...good, body: 'x'.repeat(MAX_BODY_LENGTH) }],
    // 2000 emoji are 4000 UTF-16 units but 2000 characters
    ['a body of the maximum length in astral characters', { ...good, body: '👍'.repeat(MAX_BODY_LENGTH) }],
    ['the highest 6-digit upc', { ...good, upc: '999999' }],
  ])('accepts %s', (_, input) => {
    expect(addReviewProblems(input)).toEqual([]);
    expect(() => assertValidAddReview(input)).not.toThrow();
  });

  it.each([
    ['rating 0', { rating: 0 }, 'rating must be an integer from 1 to 5, got 0'],
    ['rating 6', { rating: 6 }, 'rating must be an integer from 1 to 5, got 6'],
    ['rating -1', { rating: -1 }, 'rating must be an integer from 1 to 5, got -1'],
    ['a fractional rating', { rating: 2.5 }, 'rating must be an integer from 1 to 5, got 2.5'],
    ['an empty body', { body: '' }, 'body must not be blank'],
    ['a blank body', { body: ' \n\t ' }, 'body must not be blank'],
    [
      'a body one character too long',
      { body: 'x'.repeat(MAX_BODY_LENGTH + 1) },
      'body must be at most 2000 characters, got 2001',
    ],
    ['a 5-digit upc', { upc: '00001' }, 'upc must be 6 digits like "000001", got "00001"'],
    ['a 7-digit upc', { upc: '0000001' }, 'upc must be 6 digits like "000001", got "0000001"'],
    ['a upc with letters', { upc: 'abc123' }, 'upc must be 6 digits like "000001", got "abc123"'],
    ['a upc with spaces', { upc: ' 000001' }, 'upc must be 6 digits like "000001", got " 000001"'],
    ['an empty upc', { upc: '' }, 'upc must be 6 digits like "000001", got ""'],
  ])('refuses %s, naming the argument and the rule', (_, change, problem) => {
    const input = { ...good, ...change };
    expect(addReviewProblems(input)).toEqual([problem]);
    expect(() => assertValidAddReview(input)).toThrowError(
      expect.objectContaining({
        message: `Invalid addReview input: ${problem}`,
        extensions: { code: 'BAD_USER_INPUT' },
      }),
    );
  });

  it('lists every broken rule at once, so one round trip fixes them all', () => {
    expect(addReviewProblems({ upc: 'x', body: '', rating: 9 })).toEqual([
      'upc must be 6 digits like "000001", got "x"',
      'rating must be an integer from 1 to 5, got 9',
      'body must not be blank',
    ]);
  });

  it('quotes at most 40 characters of a bad upc back', () => {
    const [problem] = addReviewProblems({ ...good, upc: '1'.repeat(10_000) });
    expect(problem).toBe(`upc must be 6 digits like "000001", got "${'1'.repeat(40)}"`);
  });
});
