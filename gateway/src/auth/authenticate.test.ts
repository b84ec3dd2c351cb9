import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKeyManager } from './api-key.ts';
import { createFileApiKeyStore } from './api-key-file-store.ts';
import { AuthError } from './auth-error.ts';
import { type AuthenticatorOptions, createAuthenticator } from './authenticate.ts';
import { loadDevSigningKey, signDevToken } from './dev-keys.ts';
import { createJwtVerifier } from './jwt.ts';
import type { Principal } from './principal.ts';
import { expectAuthError } from './test-support.ts';

const user: Principal = { id: 'alice', kind: 'user', scopes: [], plan: 'pro' };
const bot: Principal = { id: 'key-1', kind: 'apikey', scopes: [], plan: 'free' };

// Stubs that record what reached them: the authenticator's job is only to pick the credential.
function setup(options: Partial<AuthenticatorOptions> = {}) {
  const calls: string[] = [];
  const authenticate = createAuthenticator({
    jwt: {
      verify: async (token) => {
        calls.push(`jwt:${token}`);
        if (token === 'good.jwt.sig') return user;
        throw new AuthError('bad_signature');
      },
    },
    apiKeys: {
      verifyApiKey: async (key) => {
        calls.push(`key:${key}`);
        if (key === 'tg_good') return bot;
        throw new AuthError('unknown_api_key');
      },
    },
    anonymous: { enabled: true, plan: 'anon' },
    cookieName: 'tg_session',
    ...options,
  });
  return { authenticate, calls };
}

const headers = (init: Record<string, string>) => new Headers(init);

describe('authenticate: picking the credential', () => {
  const cases: Array<{
    name: string;
    headers: Record<string, string>;
    expect: Principal | string;
    calls: string[];
  }> = [
    {
      name: 'bearer token',
      headers: { authorization: 'Bearer good.jwt.sig' },
      expect: user,
      calls: ['jwt:good.jwt.sig'],
    },
    {
      name: 'scheme is case-insensitive',
      headers: { authorization: 'bearer  good.jwt.sig ' },
      expect: user,
      calls: ['jwt:good.jwt.sig'],
    },
    {
      name: 'cookie when no Authorization',
      headers: { cookie: 'a=1; tg_session=good.jwt.sig; b=2' },
      expect: user,
      calls: ['jwt:good.jwt.sig'],
    },
    {
      name: 'quoted cookie',
      headers: { cookie: 'tg_session="good.jwt.sig"' },
      expect: user,
      calls: ['jwt:good.jwt.sig'],
    },
    {
      name: 'Authorization wins over cookie and x-api-key',
      headers: { authorization: 'Bearer good.jwt.sig', cookie: 'tg_session=other', 'x-api-key': 'tg_good' },
      expect: user,
      calls: ['jwt:good.jwt.sig'],
    },
    { name: 'x-api-key', headers: { 'x-api-key': 'tg_good' }, expect: bot, calls: ['key:tg_good'] },
    {
      name: 'empty cookie counts as absent',
      headers: { cookie: 'tg_session=', 'x-api-key': 'tg_good' },
      expect: bot,
      calls: ['key:tg_good'],
    },
    {
      name: 'other cookies only → anonymous',
      headers: { cookie: 'xtg_session=1' },
      expect: { id: 'anonymous', kind: 'anonymous', scopes: [], plan: 'anon' },
      calls: [],
    },
    {
      name: 'nothing → anonymous',
      headers: {},
      expect: { id: 'anonymous', kind: 'anonymous', scopes: [], plan: 'anon' },
      calls: [],
    },
    { name: 'empty Authorization', headers: { authorization: '' }, expect: 'malformed', calls: [] },
    {
      name: 'Basic scheme',
      headers: { authorization: 'Basic dXNlcjpwYXNz' },
      expect: 'malformed',
      calls: [],
    },
    { name: 'Bearer without token', headers: { authorization: 'Bearer ' }, expect: 'malformed', calls: [] },
    {
      name: 'two tokens',
      headers: { authorization: 'Bearer a.b.c, Bearer d.e.f' },
      expect: 'malformed',
      calls: [],
    },
    { name: 'empty x-api-key', headers: { 'x-api-key': ' ' }, expect: 'malformed', calls: [] },
    // A failing credential never falls back to the next one or to anonymous.
    {
      name: 'bad bearer with a good API key',
      headers: { authorization: 'Bearer bad.jwt.sig', 'x-api-key': 'tg_good' },
      expect: 'bad_signature',
      calls: ['jwt:bad.jwt.sig'],
    },
    {
      name: 'malformed Authorization with a good API key',
      headers: { authorization: 'Token x', 'x-api-key': 'tg_good' },
      expect: 'malformed',
      calls: [],
    },
    {
      name: 'bad cookie token',
      headers: { cookie: 'tg_session=bad.jwt.sig' },
      expect: 'bad_signature',
      calls: ['jwt:bad.jwt.sig'],
    },
    {
      name: 'unknown API key',
      headers: { 'x-api-key': 'tg_nope' },
      expect: 'unknown_api_key',
      calls: ['key:tg_nope'],
    },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const { authenticate, calls } = setup();
      const result = authenticate(headers(c.headers));
      if (typeof c.expect === 'string') await expectAuthError(result, c.expect as AuthError['reason']);
      else expect(await result).toEqual(c.expect);
      expect(calls).toEqual(c.calls);
    });
  }

  it('refuses a missing credential when anonymous access is off', async () => {
    const { authenticate } = setup({ anonymous: { enabled: false, plan: 'anon' } });
    await expectAuthError(authenticate(headers({})), 'missing');
  });

  it('refuses credentials of a kind that is not configured', async () => {
    const { authenticate } = setup({ jwt: undefined, apiKeys: undefined, cookieName: undefined });
    await expectAuthError(authenticate(headers({ authorization: 'Bearer a.b.c' })), 'malformed');
    await expectAuthError(authenticate(headers({ 'x-api-key': 'tg_good' })), 'unknown_api_key');
    // Without cookieName the cookie is not a credential.
    expect((await authenticate(headers({ cookie: 'tg_session=good.jwt.sig' }))).kind).toBe('anonymous');
  });

  it('works with any get() header source, e.g. a Map', async () => {
    const { authenticate } = setup();
    const map = new Map([['x-api-key', 'tg_good']]);
    expect(await authenticate({ get: (name) => map.get(name) })).toEqual(bot);
  });
});

describe('authenticate: end to end with the real verifier and API key store', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tollgate-authn-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('accepts a dev token and an API key, refuses a revoked key', async () => {
    const key = await loadDevSigningKey(join(dir, 'keys'));
    const jwt = createJwtVerifier({
      jwks: key.jwks,
      issuer: 'tollgate-dev',
      audience: 'tollgate',
      typ: 'at+jwt',
    });
    const apiKeys = createApiKeyManager({
      store: await createFileApiKeyStore({ path: join(dir, 'api-keys.json') }),
    });
    const authenticate = createAuthenticator({ jwt, apiKeys, anonymous: { enabled: false, plan: 'free' } });

    const token = await signDevToken(
      { sub: 'alice', scopes: ['read:reviews'], plan: 'pro' },
      { issuer: 'tollgate-dev', audience: 'tollgate', key },
    );
    expect(await authenticate(headers({ authorization: `Bearer ${token}` }))).toMatchObject({
      id: 'alice',
      kind: 'user',
      scopes: ['read:reviews'],
      plan: 'pro',
    });
    const created = await apiKeys.createApiKey({
      name: 'partner',
      scopes: ['read:products'],
      plan: 'partner',
    });
    expect(await authenticate(headers({ 'x-api-key': created.key }))).toMatchObject({
      id: created.record.id,
      kind: 'apikey',
    });
    await apiKeys.revokeApiKey(created.record.id);
    await expectAuthError(authenticate(headers({ 'x-api-key': created.key })), 'revoked_api_key', {
      token: created.key,
    });
    await jwt.close();
    await apiKeys.close();
  });
});
