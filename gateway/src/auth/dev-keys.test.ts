import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDevSigningKey, signDevToken } from './dev-keys.ts';
import { createJwtVerifier } from './jwt.ts';

describe('dev signing key', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tollgate-devkey-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is created once, with 0600 perms, and reloaded with the same kid', async () => {
    const keysDir = join(dir, 'once');
    const first = await loadDevSigningKey(keysDir);
    expect((await stat(first.keyFile)).mode & 0o777).toBe(0o600);
    expect((await stat(keysDir)).mode & 0o777).toBe(0o700);
    const again = await loadDevSigningKey(keysDir);
    expect(again.kid).toBe(first.kid);
    expect(JSON.parse(await readFile(first.keyFile, 'utf8'))).toHaveProperty('d');
    const publicText = await readFile(first.jwksFile, 'utf8');
    expect(JSON.parse(publicText)).toEqual({
      keys: [expect.objectContaining({ kid: first.kid, kty: 'RSA', alg: 'RS256' })],
    });
    expect(publicText).not.toContain('"d"');
  });

  it('agrees on one key when several processes start at once', async () => {
    const keysDir = join(dir, 'race');
    const keys = await Promise.all(Array.from({ length: 4 }, () => loadDevSigningKey(keysDir)));
    expect(new Set(keys.map((k) => k.kid)).size).toBe(1);
  });

  it('signs tokens the verifier accepts (inline JWKS or the public file)', async () => {
    const key = await loadDevSigningKey(join(dir, 'sign'));
    const token = await signDevToken(
      { sub: 'bob', scopes: ['read:reviews', 'write:reviews'], plan: 'pro', ttlSec: 120 },
      { issuer: 'tollgate-dev', audience: 'tollgate', key },
    );
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'RS256', kid: key.kid, typ: 'at+jwt' });
    const claims = decodeJwt(token);
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(120);
    for (const source of [{ jwks: key.jwks }, { jwksFile: key.jwksFile }]) {
      const verifier = createJwtVerifier({
        ...source,
        issuer: 'tollgate-dev',
        audience: 'tollgate',
        typ: 'at+jwt',
      });
      expect(await verifier.verify(token)).toMatchObject({
        id: 'bob',
        scopes: ['read:reviews', 'write:reviews'],
        plan: 'pro',
      });
      await verifier.close();
    }
    await expect(signDevToken({ sub: 'x', ttlSec: 0 }, { issuer: 'i', audience: 'a', key })).rejects.toThrow(
      TypeError,
    );
  });
});
