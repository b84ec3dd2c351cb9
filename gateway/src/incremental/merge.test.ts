import { describe, expect, it } from 'vitest';
import { mergeAtPath, mergeIncremental } from './merge.ts';

describe('mergeAtPath', () => {
  it('merges into an element of a list', () => {
    const data = { products: [{ id: '1' }, { id: '2' }] };
    expect(mergeAtPath(data, ['products', 1], { name: 'Two' })).toEqual({
      products: [{ id: '1' }, { id: '2', name: 'Two' }],
    });
    expect(data.products[1]).toEqual({ id: '2' }); // not mutated
  });

  it('merges at nested paths, deep-merging objects and lists it meets', () => {
    const data = { me: { account: { id: 'a', owner: { name: 'x' } }, orders: [{ id: 1 }, { id: 2 }] } };
    const merged = mergeAtPath(data, ['me'], {
      account: { owner: { email: 'x@y' } },
      orders: [{ total: 10 }, { total: 20 }],
    });
    expect(merged).toEqual({
      me: {
        account: { id: 'a', owner: { name: 'x', email: 'x@y' } },
        orders: [
          { id: 1, total: 10 },
          { id: 2, total: 20 },
        ],
      },
    });
  });

  it('merges at the root with an empty path', () => {
    expect(mergeAtPath({ a: 1 }, [], { b: 2 })).toEqual({ a: 1, b: 2 });
  });

  it('leaves data alone when the path leads nowhere or the patch is null', () => {
    const data = { products: null, list: [{ id: '1' }] } as Record<string, unknown>;
    expect(mergeAtPath(data, ['products', 0], { name: 'x' })).toEqual(data);
    expect(mergeAtPath(data, ['list', 5], { name: 'x' })).toEqual(data);
    expect(mergeAtPath(data, ['missing'], { name: 'x' })).toEqual(data);
    expect(mergeAtPath(data, ['list', 0], null)).toEqual(data);
  });
});

describe('mergeIncremental', () => {
  it('merges every item and appends errors in order, dropping hasNext', () => {
    const result = mergeIncremental(
      { data: { products: [{ id: '1' }, { id: '2' }] }, errors: [{ message: 'first' }], hasNext: true },
      [
        { incremental: [{ data: { name: 'One' }, path: ['products', 0] }], hasNext: true },
        {
          incremental: [
            { data: { name: 'Two' }, path: ['products', 1], errors: [{ message: 'second' }] },
            { data: null, path: ['products', 0], errors: [{ message: 'third' }] },
          ],
          hasNext: false,
          extensions: { cost: 3 },
        },
      ],
    );
    expect(result).toEqual({
      errors: [{ message: 'first' }, { message: 'second' }, { message: 'third' }],
      data: {
        products: [
          { id: '1', name: 'One' },
          { id: '2', name: 'Two' },
        ],
      },
      extensions: { cost: 3 },
    });
  });

  it('adds no errors key when there are none', () => {
    expect(mergeIncremental({ data: { a: 1 } }, [{ hasNext: false }])).toEqual({ data: { a: 1 } });
  });
});
