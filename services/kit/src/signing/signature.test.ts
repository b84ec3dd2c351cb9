import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type ForwardedPrincipal,
  SignatureError,
  signRequest,
  verifyRequestSignature,
  verifySignedRequest,
} from './index.ts';

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

describe('signed headers (v2)', () => {
  const added = { 'x-user-id': 'alice', 'x-tenant': 'acme' };
  const signedV2 = () => signRequest(alice, BODY, { secret: SECRET, timestamp: NOW, headers: added });
  const request = (): Record<string, string> => ({ ...signedV2(), ...added, 'x-unsigned': 'anything' });
  const signedV1 = () => signRequest(alice, BODY, { secret: SECRET, timestamp: NOW });

  it('follows the documented v2 format exactly', () => {
    const principal = Buffer.from(JSON.stringify(alice)).toString('base64url');
    const bodyHash = createHash('sha256').update(BODY).digest('hex');
    const input = ['v2', String(NOW), principal, bodyHash, 'x-user-id,x-tenant', 'alice', 'acme'].join('\n');
    const mac = createHmac('sha256', SECRET).update(input).digest('hex');
    expect(signedV2()).toEqual({
      'x-tollgate-principal': principal,
      'x-tollgate-timestamp': String(NOW),
      'x-tollgate-signature': `v2=${mac}`,
      'x-tollgate-signed-headers': 'x-user-id,x-tenant',
    });
  });

  it('returns the principal and exactly the signed headers', () => {
    expect(verifyRequestSignature(request(), BODY, { secret: SECRET, now: () => NOW })).toEqual({
      principal: alice,
      headers: added,
    });
    expect(verify(request())).toEqual(alice);
  });

  it('signs no other header without any: v1, as before', () => {
    const headers = signRequest(alice, BODY, { secret: SECRET, timestamp: NOW, headers: {} });
    expect(headers['x-tollgate-signature']).toMatch(/^v1=/);
    expect(headers).not.toHaveProperty('x-tollgate-signed-headers');
    expect(verifyRequestSignature(headers, BODY, { secret: SECRET, now: () => NOW }).headers).toEqual({});
  });

  const tampered: [string, () => Record<string, string | string[]>][] = [
    ['a changed signed header', () => ({ ...request(), 'x-tenant': 'globex' })],
    ['a dropped signed header', () => ({ ...request(), 'x-tenant': undefined as unknown as string })],
    ['a repeated signed header', () => ({ ...request(), 'x-tenant': ['acme', 'globex'] })],
    ['a name dropped from the list', () => ({ ...request(), 'x-tollgate-signed-headers': 'x-user-id' })],
    [
      'a name added to the list',
      () => ({ ...request(), 'x-tollgate-signed-headers': 'x-user-id,x-tenant,x-unsigned' }),
    ],
    ['the list reordered', () => ({ ...request(), 'x-tollgate-signed-headers': 'x-tenant,x-user-id' })],
    [
      'the list dropped',
      () => ({ ...request(), 'x-tollgate-signed-headers': undefined as unknown as string }),
    ],
    [
      'a list beside a v1 signature',
      () => ({ ...signedV1(), ...added, 'x-tollgate-signed-headers': 'x-user-id' }),
    ],
    [
      'a v2 relabelled v1',
      () => ({
        ...request(),
        'x-tollgate-signature': request()['x-tollgate-signature']!.replace('v2=', 'v1='),
      }),
    ],
    [
      'a signature header in the list',
      () => ({ ...request(), 'x-tollgate-signed-headers': 'x-tollgate-principal' }),
    ],
    ['a name twice in the list', () => ({ ...request(), 'x-tollgate-signed-headers': 'x-tenant,x-tenant' })],
  ];
  it.each(tampered)('rejects %s', (_, headers) => {
    expect(
      rejection(() => verifySignedRequest(headers(), BODY, { secret: SECRET, now: () => NOW })).code,
    ).toBe('SIGNATURE_INVALID');
  });

  it('refuses to sign a header it could not list', () => {
    for (const name of ['X-Upper', 'x a', 'x-tollgate-signature', ''])
      expect(() => signRequest(alice, BODY, { secret: SECRET, headers: { [name]: 'v' } })).toThrow(TypeError);
  });
});
