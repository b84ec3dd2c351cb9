import { describe, expect, it } from 'vitest';
import { shippingEstimate } from './resolvers.ts';

describe('shippingEstimate', () => {
  it.each([
    // price, weight, expected
    [1001, 500, 0],
    [5000, 1, 0],
    [1000, 500, 250],
    [999, 3, 2],
    [10, 0, 0],
    [10, 1, 1],
  ])('price %i, weight %i → %i', (price, weight, expected) => {
    expect(shippingEstimate(price, weight)).toBe(expected);
  });
});
