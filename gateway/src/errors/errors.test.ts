import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createFormatError, ErrorCode, RateLimitedError, statusOf } from './index.ts';

const docs = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');

describe('error catalog', () => {
  it('lists exactly the codes documented in docs/errors.md, with the same status', () => {
    const rows = [...docs.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]);
    expect(Object.fromEntries(rows)).toEqual(statusOf);
    expect(rows.map((r) => r[0]).sort()).toEqual(Object.values(ErrorCode).sort());
  });

  it('puts the code and the HTTP head in extensions', () => {
    const e = new RateLimitedError('slow down', {
      headers: { 'retry-after': '3' },
      extensions: { cost: { x: 1 } },
    });
    expect(e.extensions.code).toBe('RATE_LIMITED');
    expect(e.extensions.cost).toEqual({ x: 1 });
    const http = e.extensions.http as { status: number; headers: Map<string, string> };
    expect(http.status).toBe(429);
    expect(http.headers.get('retry-after')).toBe('3');
  });
});

describe('formatError', () => {
  const logged: unknown[] = [];
  const format = createFormatError({ log: (_m, e) => logged.push(e) });

  it('lets known codes through without stack traces', () => {
    const out = format({ message: 'no', extensions: { code: 'FORBIDDEN', stacktrace: ['x'] } }, null);
    expect(out).toEqual({ message: 'no', extensions: { code: 'FORBIDDEN' } });
  });

  it('lets a subgraph code through when the error names its service', () => {
    const out = format({ message: 'bad', extensions: { code: 'CUSTOM', serviceName: 'reviews' } }, null);
    expect(out.extensions?.code).toBe('CUSTOM');
  });

  it('masks unknown and internal errors and logs them', () => {
    const original = new Error('db password is hunter2');
    const out = format({ message: 'db password is hunter2', path: ['a'] }, original);
    expect(out).toEqual({
      message: 'Unexpected error.',
      path: ['a'],
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
    expect(logged).toContain(original);
    const internal = format(
      { message: 'x', extensions: { code: 'INTERNAL_SERVER_ERROR', serviceName: 's' } },
      null,
    );
    expect(internal.message).toBe('Unexpected error.');
  });

  it('gives BAD_REQUEST to client errors Apollo raises without a code, keeping their message', () => {
    const apq = { message: 'provided sha does not match query', extensions: { http: { status: 400 } } };
    const out = format({ message: apq.message, extensions: { code: 'INTERNAL_SERVER_ERROR' } }, apq);
    expect(out).toEqual({ message: apq.message, extensions: { code: 'BAD_REQUEST' } });
    const ours = { message: 'boom', extensions: { http: { status: 500 } } };
    const masked = format({ message: 'boom', extensions: { code: 'INTERNAL_SERVER_ERROR' } }, ours);
    expect(masked.message).toBe('Unexpected error.');
  });

  it('drops "Did you mean" hints when told to', () => {
    const hiding = createFormatError({ hideSuggestions: true });
    const message =
      'Variable "$c" got invalid value "RDE"; Value "RDE" does not exist in "Color" enum. Did you mean the enum value "RED"?';
    const out = hiding({ message, extensions: { code: 'BAD_USER_INPUT' } }, null);
    expect(out.message).toBe(
      'Variable "$c" got invalid value "RDE"; Value "RDE" does not exist in "Color" enum.',
    );
    expect(format({ message, extensions: { code: 'BAD_USER_INPUT' } }, null).message).toBe(message);
  });

  it('never throws, whatever it is given', () => {
    const hostile = {
      get message(): string {
        throw new Error('boom');
      },
    } as unknown as { message: string };
    expect(() => format(hostile, null)).not.toThrow();
  });
});
