import { createHash, createHmac } from 'node:crypto';
import { verifyRequestSignature } from '@tollgate/kit/signing';
import { describe, expect, it } from 'vitest';
import { anonymousPrincipal, createRequestSigner, type Principal } from './index.ts';

const SECRET = 'gateway-unit-test-secret-0123456789abcdef';
const NOW = 1_750_000_000_000;
const BODY = '{"query":"{ me { id } }","variables":{"x":"é"}}';

// The v1 format, spelled out independently of the implementation.
function expected(principal: string, body: string, timestamp = NOW): string {
  const bodyHash = createHash('sha256').update(Buffer.from(body, 'utf8')).digest('hex');
  return `v1=${createHmac('sha256', SECRET).update(`${timestamp}.${principal}.${bodyHash}`).digest('hex')}`;
}

describe('createRequestSigner', () => {
  const sign = createRequestSigner({ secret: SECRET, now: () => NOW });
  const alice: Principal = Object.freeze({
    id: 'alice',
    kind: 'user',
    scopes: ['read:email'],
    plan: 'standard',
    claims: { email: 'alice@example.com', sub: 'alice' },
  });

  it('forwards the principal without its claims, signed over timestamp, principal and body', () => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    sign(headers, BODY, { principal: alice });
    const principal = headers['x-tollgate-principal']!;
    expect(JSON.parse(Buffer.from(principal, 'base64url').toString('utf8'))).toEqual({
      id: 'alice',
      kind: 'user',
      scopes: ['read:email'],
      plan: 'standard',
    });
    expect(headers).toEqual({
      'content-type': 'application/json',
      'x-tollgate-principal': principal,
      'x-tollgate-timestamp': String(NOW),
      'x-tollgate-signature': expected(principal, BODY),
    });
  });

  it('forwards the anonymous principal like any other', () => {
    const headers: Record<string, string> = {};
    sign(headers, BODY, { principal: anonymousPrincipal('anonymous') });
    expect(JSON.parse(Buffer.from(headers['x-tollgate-principal']!, 'base64url').toString())).toEqual({
      id: 'anonymous',
      kind: 'anonymous',
      scopes: [],
      plan: 'anonymous',
    });
  });

  it.each([
    ['no context (health checks)', undefined],
    ['an empty context', {}],
  ])('signs %s with the empty principal', (_, context) => {
    const headers: Record<string, string> = { 'x-tollgate-principal': 'left over' };
    sign(headers, BODY, context);
    expect(headers).toEqual({
      'x-tollgate-timestamp': String(NOW),
      'x-tollgate-signature': expected('', BODY),
    });
  });

  it('binds the signature to the body and the time', () => {
    const a: Record<string, string> = {};
    const b: Record<string, string> = {};
    sign(a, BODY, { principal: alice });
    sign(b, `${BODY} `, { principal: alice });
    expect(a['x-tollgate-signature']).not.toBe(b['x-tollgate-signature']);
    const later = createRequestSigner({ secret: SECRET, now: () => NOW + 1 });
    const c: Record<string, string> = {};
    later(c, BODY, { principal: alice });
    expect(c['x-tollgate-signature']).toBe(expected(a['x-tollgate-principal']!, BODY, NOW + 1));
  });

  it('overwrites signature headers that were already set', () => {
    const headers: Record<string, string> = { 'x-tollgate-signature': 'v1=00', 'x-tollgate-timestamp': '1' };
    sign(headers, BODY, { principal: alice });
    expect(headers['x-tollgate-signature']).toBe(expected(headers['x-tollgate-principal']!, BODY));
    expect(headers['x-tollgate-timestamp']).toBe(String(NOW));
  });

  it('covers the headers it is told to, as the subgraph verifies them (v2)', () => {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-user-id': 'alice',
      'x-tenant': 'acme',
    };
    sign(headers, BODY, { principal: alice }, ['x-user-id', 'x-tenant']);
    expect(headers['x-tollgate-signed-headers']).toBe('x-user-id,x-tenant');
    expect(headers['x-tollgate-signature']).toMatch(/^v2=[0-9a-f]{64}$/);
    const verified = verifyRequestSignature(headers, BODY, { secret: SECRET, now: () => NOW });
    expect(verified.headers).toEqual({ 'x-user-id': 'alice', 'x-tenant': 'acme' });
    expect(verified.principal?.id).toBe('alice');
    expect(() =>
      verifyRequestSignature({ ...headers, 'x-tenant': 'globex' }, BODY, { secret: SECRET, now: () => NOW }),
    ).toThrow(/bad request signature/);
  });

  it('signs v1 and drops a stale header list when told of no headers', () => {
    const headers: Record<string, string> = { 'x-tollgate-signed-headers': 'x-a' };
    sign(headers, BODY, { principal: alice }, []);
    expect(headers).not.toHaveProperty('x-tollgate-signed-headers');
    expect(headers['x-tollgate-signature']).toBe(expected(headers['x-tollgate-principal']!, BODY));
  });

  it.each([['short'], [''], [undefined]])('refuses a secret of %j', (secret) => {
    expect(() => createRequestSigner({ secret: secret as unknown as string })).toThrow(
      /at least 32 characters/,
    );
  });
});
