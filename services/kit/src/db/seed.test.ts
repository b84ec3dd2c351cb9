import { describe, expect, it } from 'vitest';
import { renderSeed, resolveSeedSize } from './seed.ts';

describe('resolveSeedSize', () => {
  it.each([
    ['small', { products: 250, users: 100, reviews: 1000 }],
    ['bench', { products: 10_000, users: 2_000, reviews: 100_000 }],
  ] as const)('%s', (size, counts) => {
    expect(resolveSeedSize(size)).toEqual(counts);
  });

  it('accepts explicit counts', () => {
    expect(resolveSeedSize({ products: 3, users: 2, reviews: 0 })).toEqual({
      products: 3,
      users: 2,
      reviews: 0,
    });
  });

  it.each([
    ['an unknown name', 'huge'],
    ['a negative count', { products: -1, users: 1, reviews: 1 }],
    ['a fraction', { products: 1.5, users: 1, reviews: 1 }],
    ['text smuggled in as a count', { products: '1; DROP TABLE x', users: 1, reviews: 1 }],
    ['reviews without users', { products: 1, users: 0, reviews: 1 }],
  ])('rejects %s', (_, size) => {
    expect(() => resolveSeedSize(size as never)).toThrow(TypeError);
  });
});

describe('renderSeed', () => {
  it('substitutes every placeholder with its integer', () => {
    const sql = 'generate_series(1, {{products}}) % {{ users }} + {{reviews}}::int';
    expect(renderSeed(sql, { products: 5, users: 6, reviews: 7 })).toBe('generate_series(1, 5) % 6 + 7::int');
  });

  it('refuses placeholders it does not know', () => {
    expect(() => renderSeed('{{orders}}', { products: 1, users: 1, reviews: 1 })).toThrow(/orders/);
  });
});
