import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { acceptsMultipart, encodePart, formatErrors, formatPayload } from './wire.ts';

describe('acceptsMultipart', () => {
  it.each([
    ['multipart/mixed;deferSpec=20220824,application/json', true],
    ['multipart/mixed; deferSpec="20220824"', true],
    ['application/json, multipart/mixed', true],
    ['Multipart/Mixed', true],
    ['multipart/mixed;deferSpec=20220824;q=0, application/json', false],
    ['multipart/mixed; deferSpec=20230101', false],
    ['multipart/mixed; incrementalSpec=v0.2', false],
    ['application/json', false],
    ['*/*', false],
    ['multipart/*', false],
    [undefined, false],
  ])('%s → %s', (accept, expected) => {
    expect(acceptsMultipart(accept)).toBe(expected);
  });
});

describe('encodePart', () => {
  it('frames parts with the `-` boundary, the opening delimiter first and the closing one last', () => {
    const h = 'content-type: application/json; charset=utf-8\r\n\r\n';
    expect(encodePart({ a: 1 }, { first: true, last: false })).toBe(`\r\n---\r\n${h}{"a":1}\r\n---\r\n`);
    expect(encodePart({ b: 2 }, { first: false, last: false })).toBe(`${h}{"b":2}\r\n---\r\n`);
    expect(encodePart({ hasNext: false }, { first: false, last: true })).toBe(
      `${h}{"hasNext":false}\r\n-----\r\n`,
    );
  });
});

describe('formatErrors', () => {
  it('defaults the code, drops extensions.http and applies formatError', () => {
    const errors = formatErrors(
      [
        new GraphQLError('a', { path: ['x'], extensions: { code: 'FORBIDDEN', http: { status: 403 } } }),
        new Error('b'),
      ],
      { formatError: (f) => ({ ...f, message: f.message.toUpperCase() }) },
    );
    expect(errors).toEqual([
      { message: 'A', path: ['x'], extensions: { code: 'FORBIDDEN' } },
      { message: 'B', extensions: { code: 'INTERNAL_SERVER_ERROR' } },
    ]);
  });

  it('masks an error whose formatting throws', () => {
    const errors = formatErrors([new GraphQLError('a')], {
      formatError: () => {
        throw new Error('no');
      },
    });
    expect(errors).toEqual([
      { message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } },
    ]);
  });

  it('adds a stack trace when asked to', () => {
    const [error] = formatErrors([new GraphQLError('a')], { includeStacktrace: true });
    expect(Array.isArray(error!.extensions!.stacktrace)).toBe(true);
  });
});

describe('formatPayload', () => {
  it('keeps data, path and label, formats errors and keeps hasNext', () => {
    expect(
      formatPayload(
        {
          incremental: [
            { data: { a: 1 }, path: ['x', 0], label: 'l' },
            { data: null, path: ['y'], errors: [new GraphQLError('e')] },
          ],
          hasNext: false,
        },
        {},
      ),
    ).toEqual({
      incremental: [
        { data: { a: 1 }, path: ['x', 0], label: 'l' },
        {
          data: null,
          path: ['y'],
          errors: [{ message: 'e', extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
        },
      ],
      hasNext: false,
    });
  });
});
