import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type ForwardedPrincipal, SignatureError, signRequest, verifySignedRequest } from './index.ts';

const SECRET = 'a-test-secret-of-at-least-32-characters';
const NOW = 1_750_000_000_000;
const BODY = '{"query":"{ me { id } }","variables":{}}';
const alice: ForwardedPrincipal = { id: 'alice', kind: 'user', scopes: ['read:email'], plan: 'standard' };

const verify = (headers: Record<string, string>, body: string | Uint8Array = BODY, now = NOW) =>
  verifySignedRequest(headers, body, { secret: SECRET, now: () => now });

function rejection(fn: () => unknown): SignatureError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SignatureError);
    return error as SignatureError;
  }
  return expect.fail('expected a SignatureError');
}

describe('verifySignedRequest', () => {
  it('accepts a valid signature and returns the principal', () => {
    const headers = signRequest(alice, BODY, { secret: SECRET, timestamp: NOW });
    expect(verify(headers)).toEqual(alice);
    // the same bytes as a Buffer, as the server reads them
    expect(verify(headers, Buffer.from(BODY))).toEqual(alice);
  });

  it('follows the documented v1 format exactly', () => {
    const principal = Buffer.from(JSON.stringify(alice)).toString('base64url');
    const bodyHash = createHash('sha256').update(BODY).digest('hex');
    const mac = createHmac('sha256', SECRET).update(`${NOW}.${principal}.${bodyHash}`).digest('hex');
    const headers = {
      'x-tollgate-principal': principal,
      'x-tollgate-timestamp': String(NOW),
      'x-tollgate-signature': `v1=${mac}`,
    };
    expect(signRequest(alice, BODY, { secret: SECRET, timestamp: NOW })).toEqual(headers);
    expect(verify(headers)).toEqual(alice);
  });

  it('returns null for a request signed with the empty principal (health checks)', () => {
    const headers = signRequest(null, BODY, { secret: SECRET, timestamp: NOW });
    expect(headers).not.toHaveProperty('x-tollgate-principal');
    expect(verify(headers)).toBeNull();
    expect(verify({ ...headers, 'x-tollgate-principal': '' })).toBeNull();
  });

  it('accepts the edges of the window', () => {
    const headers = signRequest(alice, BODY, { secret: SECRET, timestamp: NOW });
    expect(verify(headers, BODY, NOW + 30_000)).toEqual(alice);
    expect(verify(headers, BODY, NOW - 30_000)).toEqual(alice);
  });

  const signed = () => signRequest(alice, BODY, { secret: SECRET, timestamp: NOW });
  const cases: [string, () => ReturnType<typeof verify>, string, 401 | 403][] = [
    ['no signature at all', () => verify({}), 'SIGNATURE_MISSING', 401],
    [
      'a principal but no signature',
      () => verify({ 'x-tollgate-principal': signed()['x-tollgate-principal']! }),
      'SIGNATURE_MISSING',
      401,
    ],
    [
      'a signature made with another secret',
      () => verify(signRequest(alice, BODY, { secret: `${SECRET}-other`, timestamp: NOW })),
      'SIGNATURE_INVALID',
      403,
    ],
    [
      'a flipped signature digit',
      () => verify({ ...signed(), 'x-tollgate-signature': flip(signed()['x-tollgate-signature']!) }),
      'SIGNATURE_INVALID',
      403,
    ],
    [
      'a malformed signature',
      () => verify({ ...signed(), 'x-tollgate-signature': 'sha256=abc' }),
      'SIGNATURE_INVALID',
      403,
    ],
    [
      'a timestamp without signature',
      () => verify({ 'x-tollgate-timestamp': String(NOW) }),
      'SIGNATURE_INVALID',
      403,
    ],
    [
      'a non-numeric timestamp',
      () => verify({ ...signed(), 'x-tollgate-timestamp': 'soon' }),
      'SIGNATURE_INVALID',
      403,
    ],
    ['a tampered body', () => verify(signed(), BODY.replace('me', 'you')), 'SIGNATURE_INVALID', 403],
    [
      'a tampered principal',
      () =>
        verify({
          ...signed(),
          'x-tollgate-principal': Buffer.from(JSON.stringify({ ...alice, id: 'mallory' })).toString(
            'base64url',
          ),
        }),
      'SIGNATURE_INVALID',
      403,
    ],
    [
      'a dropped principal',
      () => verify({ ...signed(), 'x-tollgate-principal': '' }),
      'SIGNATURE_INVALID',
      403,
    ],
    [
      'a moved timestamp',
      () => verify({ ...signed(), 'x-tollgate-timestamp': String(NOW + 1) }),
      'SIGNATURE_INVALID',
      403,
    ],
    [
      'a repeated signature header',
      () =>
        verifySignedRequest(
          { ...signed(), 'x-tollgate-signature': [signed()['x-tollgate-signature']!, 'v1=00'] },
          BODY,
          { secret: SECRET, now: () => NOW },
        ),
      'SIGNATURE_INVALID',
      403,
    ],
    [
      'a stale timestamp beyond the window',
      () => verify(signed(), BODY, NOW + 30_001),
      'SIGNATURE_STALE',
      403,
    ],
    [
      'a future timestamp beyond the window',
      () => verify(signed(), BODY, NOW - 30_001),
      'SIGNATURE_STALE',
      403,
    ],
  ];
  it.each(cases)('rejects %s', (_, run, code, status) => {
    const error = rejection(run);
    expect(error.code).toBe(code);
    expect(error.status).toBe(status);
    // never echoes what the caller sent
    const sent = Object.values(signed());
    for (const value of sent) expect(error.message).not.toContain(value);
  });

  it('honours a custom window', () => {
    const headers = signed();
    const opts = { secret: SECRET, maxSkewMs: 1_000 };
    expect(verifySignedRequest(headers, BODY, { ...opts, now: () => NOW + 1_000 })).toEqual(alice);
    expect(
      rejection(() => verifySignedRequest(headers, BODY, { ...opts, now: () => NOW + 1_001 })).code,
    ).toBe('SIGNATURE_STALE');
  });

  it('rejects a validly signed payload that is not a principal', () => {
    const forgedByGateway = Buffer.from(
      JSON.stringify({ id: 'x', kind: 'admin', scopes: [], plan: 'p' }),
    ).toString('base64url');
    const bodyHash = createHash('sha256').update(BODY).digest('hex');
    const mac = createHmac('sha256', SECRET).update(`${NOW}.${forgedByGateway}.${bodyHash}`).digest('hex');
    const headers = {
      'x-tollgate-principal': forgedByGateway,
      'x-tollgate-timestamp': String(NOW),
      'x-tollgate-signature': `v1=${mac}`,
    };
    expect(rejection(() => verify(headers)).code).toBe('SIGNATURE_INVALID');
  });

  it('refuses a short secret on both sides', () => {
    expect(() => signRequest(alice, BODY, { secret: 'short' })).toThrow(TypeError);
    expect(() => verifySignedRequest(signed(), BODY, { secret: 'short' })).toThrow(TypeError);
  });
});

function flip(signature: string): string {
  const last = signature.at(-1) === '0' ? '1' : '0';
  return `${signature.slice(0, -1)}${last}`;
}
