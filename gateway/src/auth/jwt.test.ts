import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, exportSPKI, SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createJwtVerifier, type JwtVerifier, type JwtVerifierOptions } from './jwt.ts';
import {
  AUDIENCE,
  createTestKey,
  expectAuthError,
  ISSUER,
  nowSec,
  startTestServer,
  type TestKey,
  type TestServer,
} from './test-support.ts';

let k1: TestKey;
let k2: TestKey;
let ec: TestKey;
let attackerKey: TestKey;
const open: Array<{ close(): Promise<void> }> = [];

beforeAll(async () => {
  [k1, k2, ec, attackerKey] = await Promise.all([
    createTestKey('k1'),
    createTestKey('k2'),
    createTestKey('ec1', 'ES256'),
    createTestKey('attacker'),
  ]);
});

afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(open.splice(0).map((o) => o.close()));
});

async function serve(keys = [k1.publicJwk, ec.publicJwk]): Promise<TestServer> {
  const server = await startTestServer(keys);
  open.push(server);
  return server;
}

function verifier(server: TestServer, options: Partial<JwtVerifierOptions> = {}): JwtVerifier {
  const v = createJwtVerifier({ jwksUrl: server.jwksUrl, issuer: ISSUER, audience: AUDIENCE, ...options });
  open.push(v);
  return v;
}

const material = (): string[] => [...k1.material, ...k2.material, ...ec.material, ...attackerKey.material];

// Fake only Date: jose's cooldown and cache clocks and the token clock move, real I/O timers do not.
function advanceClock(ms: number): void {
  if (!vi.isFakeTimers()) vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(Date.now() + ms);
}

describe('JWT verifier: accepted tokens', () => {
  it('maps a valid token to a user principal', async () => {
    const server = await serve();
    const v = verifier(server);
    const token = await k1.sign({ sub: 'alice', scope: 'read:reviews write:reviews', plan: 'pro' });
    const principal = await v.verify(token);
    expect(principal).toMatchObject({
      id: 'alice',
      kind: 'user',
      scopes: ['read:reviews', 'write:reviews'],
      plan: 'pro',
    });
    expect(principal.claims?.iss).toBe(ISSUER);
    expect(Object.isFrozen(principal)).toBe(true);
    expect(Object.isFrozen(principal.scopes)).toBe(true);
  });

  it('reads array scopes, falls back to scp, and uses defaultPlan', async () => {
    const server = await serve();
    const v = verifier(server, { defaultPlan: 'starter' });
    expect(await v.verify(await k1.sign({ scope: ['a', 'b', 'a', 3] }))).toMatchObject({
      scopes: ['a', 'b'],
      plan: 'starter',
    });
    expect((await v.verify(await k1.sign({ scp: ['x'] }))).scopes).toEqual(['x']);
    expect((await v.verify(await k1.sign({}))).scopes).toEqual([]);
    const custom = verifier(server, { scopeClaim: 'permissions', planClaim: 'tier' });
    expect(await custom.verify(await k1.sign({ permissions: 'p:q', tier: 'gold' }))).toMatchObject({
      scopes: ['p:q'],
      plan: 'gold',
    });
  });

  it('accepts ES256 from the same key set', async () => {
    const server = await serve();
    expect((await verifier(server).verify(await ec.sign())).id).toBe('alice');
  });

  it('uses a local key set (inline or file), dropping private members', async () => {
    const privateJwk = { ...(await exportJWK(k1.privateKey)), kid: 'k1', alg: 'RS256', key_ops: ['sign'] };
    const dir = await mkdtemp(join(tmpdir(), 'tollgate-jwks-'));
    try {
      const file = join(dir, 'jwks.json');
      await writeFile(file, JSON.stringify({ keys: [privateJwk] }));
      const token = await k1.sign();
      for (const source of [{ jwks: { keys: [privateJwk] } }, { jwksFile: file }]) {
        const v = createJwtVerifier({ ...source, issuer: ISSUER, audience: AUDIENCE });
        expect((await v.verify(token)).id).toBe('alice');
        await v.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('JWT verifier: rejection matrix (RFC 8725; docs/design.md#jwt-validation)', () => {
  it('J1: alg none with an empty signature', async () => {
    const server = await serve();
    const v = verifier(server);
    const token = new UnsecuredJWT({ sub: 'alice', iss: ISSUER, aud: AUDIENCE, exp: nowSec() + 60 }).encode();
    expect(token.endsWith('.')).toBe(true);
    await expectAuthError(v.verify(token), 'alg_not_allowed', { token, material: material() });
    expect(server.fetches).toBe(0);
  });

  it('J2: HS256 signed with the RS256 public key PEM (alg confusion)', async () => {
    const server = await serve();
    const pem = await exportSPKI(
      await crypto.subtle.importKey(
        'jwk',
        k1.publicJwk,
        { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
        true,
        ['verify'],
      ),
    );
    const token = await new SignJWT({ sub: 'mallory', iss: ISSUER, aud: AUDIENCE, exp: nowSec() + 60 })
      .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
      .sign(new TextEncoder().encode(pem));
    const secrets = { token, material: [...material(), pem.split('\n')[1] ?? pem] };
    await expectAuthError(verifier(server).verify(token), 'alg_not_allowed', secrets);
    await expectAuthError(
      verifier(server, { algorithms: ['RS256'] }).verify(token),
      'alg_not_allowed',
      secrets,
    );
    // Even with HS256 enabled, the PEM is never the HMAC key: only the configured secret is.
    const secret = 'a-configured-hs256-secret-of-32-bytes!!';
    const withHs = verifier(server, { hs256Secret: secret });
    await expectAuthError(withHs.verify(token), 'bad_signature', {
      ...secrets,
      material: [...secrets.material, secret],
    });
    const good = await new SignJWT({ sub: 'svc', iss: ISSUER, aud: AUDIENCE, exp: nowSec() + 60 })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(secret));
    expect((await withHs.verify(good)).id).toBe('svc');
    expect(server.fetches).toBe(0);
  });

  it('J3: hostile kid values are only lookup keys', async () => {
    const server = await serve();
    const v = verifier(server);
    for (const kid of [
      '../../dev/null',
      "' OR 1=1--",
      '*)(uid=*))(|(uid=*',
      'http://127.0.0.1:1/x',
      'k1\u0000',
    ]) {
      const token = await k1.sign({}, { kid });
      await expectAuthError(v.verify(token), 'unknown_key', { token, material: material() });
    }
    // One fetch of the configured URL (the first lookup), nothing else, no path built from a kid.
    expect(server.requests).toEqual(['/jwks.json']);
  });

  it('J4: jku / x5u / jwk headers pointing at an attacker are ignored', async () => {
    const server = await serve();
    const attacker = await serve([attackerKey.publicJwk]);
    const v = verifier(server);
    const hostile = {
      jku: attacker.jwksUrl,
      x5u: `${attacker.url}/cert.pem`,
      jwk: attackerKey.publicJwk,
    };
    const ownKid = await attackerKey.sign({}, { ...hostile, kid: 'attacker' });
    await expectAuthError(v.verify(ownKid), 'unknown_key', { token: ownKid, material: material() });
    const borrowedKid = await attackerKey.sign({}, { ...hostile, kid: 'k1' });
    await expectAuthError(v.verify(borrowedKid), 'bad_signature', {
      token: borrowedKid,
      material: material(),
    });
    expect(attacker.requests).toEqual([]);
    expect(server.requests).toEqual(['/jwks.json']);
  });

  it('J5: exp / nbf beyond the clock tolerance; just inside is accepted', async () => {
    const server = await serve();
    const v = verifier(server); // clockToleranceSec defaults to 30
    const expired = await k1.sign({ exp: nowSec() - 120 });
    await expectAuthError(v.verify(expired), 'expired', { token: expired, material: material() });
    const early = await k1.sign({ nbf: nowSec() + 120 });
    await expectAuthError(v.verify(early), 'not_yet_valid', { token: early, material: material() });
    expect((await v.verify(await k1.sign({ exp: nowSec() - 10 }))).id).toBe('alice');
    expect((await v.verify(await k1.sign({ nbf: nowSec() + 10 }))).id).toBe('alice');
    const noExp = await new SignJWT({ sub: 'alice', iss: ISSUER, aud: AUDIENCE })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .sign(k1.privateKey);
    const err = await expectAuthError(v.verify(noExp), 'malformed', { token: noExp, material: material() });
    expect(err.message).toBe('token has no expiry');
  });

  it('J6: wrong or missing aud / iss; an array aud containing ours is accepted', async () => {
    const server = await serve();
    const v = verifier(server);
    const cases = [
      { payload: { aud: 'someone-else' }, reason: 'wrong_audience', message: 'wrong audience' },
      { payload: { aud: undefined }, reason: 'wrong_audience', message: 'token has no audience' },
      { payload: { iss: 'https://evil.test' }, reason: 'wrong_issuer', message: 'wrong issuer' },
      { payload: { iss: undefined }, reason: 'wrong_issuer', message: 'token has no issuer' },
    ] as const;
    for (const { payload, reason, message } of cases) {
      const token = await k1.sign(payload);
      const err = await expectAuthError(v.verify(token), reason, { token, material: material() });
      expect(err.message).toBe(message);
    }
    expect((await v.verify(await k1.sign({ aud: ['other', AUDIENCE] }))).id).toBe('alice');
    const multi = verifier(server, { audience: ['a', 'b'], issuer: ['x', ISSUER] });
    expect((await multi.verify(await k1.sign({ aud: 'b' }))).id).toBe('alice');
  });

  it('J7: a rotated-in kid is accepted after one refetch; a flood of unknown kids costs ≤1 fetch per cooldown', async () => {
    const server = await serve([k1.publicJwk]);
    const v = verifier(server); // cooldownDuration defaults to 30 s
    await v.verify(await k1.sign());
    expect(server.fetches).toBe(1);

    server.setKeys([k1.publicJwk, k2.publicJwk]);
    const rotated = await k2.sign();
    // Inside the cooldown the new kid is unknown, and costs no fetch.
    await expectAuthError(v.verify(rotated), 'unknown_key', { token: rotated, material: material() });
    expect(server.fetches).toBe(1);
    advanceClock(31_000);
    expect((await v.verify(rotated)).id).toBe('alice');
    expect(server.fetches).toBe(2);

    advanceClock(31_000);
    const flood = await Promise.all(
      Array.from({ length: 50 }, (_, i) => k1.sign({}, { kid: `unknown-${i}` })),
    );
    const results = await Promise.allSettled(flood.map((t) => v.verify(t)));
    expect(
      results.every(
        (r) => r.status === 'rejected' && (r.reason as { reason?: string }).reason === 'unknown_key',
      ),
    ).toBe(true);
    for (const token of flood.slice(0, 10)) await expectAuthError(v.verify(token), 'unknown_key');
    expect(server.fetches).toBeLessThanOrEqual(3);
    // Known keys keep working throughout.
    expect((await v.verify(await k2.sign())).id).toBe('alice');
  });

  it('J8: endpoint down → last good keys still verify until cacheMaxAge, then fail closed', async () => {
    const server = await serve([k1.publicJwk]);
    const v = verifier(server);
    const token = await k1.sign({ exp: nowSec() + 86_400 });
    await v.verify(token);
    await server.close();

    expect((await v.verify(token)).id).toBe('alice');
    advanceClock(5 * 60_000); // past the cooldown, inside cacheMaxAge (10 min)
    expect((await v.verify(token)).id).toBe('alice');
    // An unknown kid now tries a refetch, which fails: that is jwks_unavailable, and the cache survives.
    const unknown = await k1.sign({ exp: nowSec() + 3600 }, { kid: 'k9' });
    await expectAuthError(v.verify(unknown), 'jwks_unavailable', { token: unknown, material: material() });
    expect((await v.verify(token)).id).toBe('alice');

    advanceClock(6 * 60_000); // cacheMaxAge passed: no stale keys beyond it
    await expectAuthError(v.verify(token), 'jwks_unavailable', { token, material: material() });
  });

  it('J8: no cached keys and the endpoint hangs → jwks_unavailable within the timeout, then no refetch storm', async () => {
    const server = await serve();
    server.mode = 'hang';
    const v = verifier(server, { timeoutDuration: 200 });
    const token = await k1.sign();
    const started = performance.now();
    const err = await expectAuthError(v.verify(token), 'jwks_unavailable', { token, material: material() });
    expect(performance.now() - started).toBeLessThan(4_000);
    expect(err.cause).toBeDefined();
    // Inside the cooldown after a failure, requests fail fast without touching the endpoint.
    await Promise.all(Array.from({ length: 20 }, () => expectAuthError(v.verify(token), 'jwks_unavailable')));
    expect(server.fetches).toBe(1);
  });

  it('J8: refused connections, HTTP errors and non-JWKS bodies are jwks_unavailable', async () => {
    const down = await startTestServer();
    const downUrl = down.jwksUrl;
    await down.close();
    const token = await k1.sign();
    const refused = createJwtVerifier({ jwksUrl: downUrl, issuer: ISSUER, audience: AUDIENCE });
    open.push(refused);
    await expectAuthError(refused.verify(token), 'jwks_unavailable', { token });
    for (const mode of [
      { status: 500, body: 'oops' },
      { status: 200, body: '<html>login</html>' },
      { status: 200, body: '{"keys":"nope"}' },
      { status: 302, body: '' },
    ]) {
      const server = await serve();
      server.mode = mode;
      const err = await expectAuthError(verifier(server).verify(token), 'jwks_unavailable', { token });
      expect(String((err.cause as Error).message)).not.toContain('login');
    }
  });

  it('J9: an ID token (typ JWT) is refused where at+jwt is required', async () => {
    const server = await serve();
    const v = verifier(server, { typ: 'at+jwt' });
    for (const typ of ['JWT', undefined]) {
      const token = await k1.sign({ nonce: 'n' }, { typ });
      await expectAuthError(v.verify(token), 'wrong_type', { token, material: material() });
    }
    expect((await v.verify(await k1.sign({}, { typ: 'at+jwt' }))).id).toBe('alice');
    expect((await v.verify(await k1.sign({}, { typ: 'application/at+JWT' }))).id).toBe('alice');
  });
});

describe('JWT verifier: other refusals and abuse', () => {
  it('refuses bad signatures, garbage and missing subjects', async () => {
    const server = await serve();
    const v = verifier(server);
    const token = await k1.sign();
    const [h, p, s] = token.split('.');
    const tampered = `${h}.${p}.${s?.startsWith('A') ? 'B' : 'A'}${s?.slice(1)}`;
    await expectAuthError(v.verify(tampered), 'bad_signature', { token: tampered, material: material() });
    await expectAuthError(v.verify(''), 'missing');
    const garbage = [
      ['abc', 'malformed'],
      ['a.b', 'malformed'],
      ['a.b.c', 'malformed'],
      ['a.b.c.d', 'malformed'],
      [`${h}.${p}.${s}!`, 'malformed'],
      [`${h}.${p}.${s}${'x'.repeat(20_000)}`, 'malformed'],
      [`${h}.bm90IGpzb24.${s}`, 'bad_signature'],
    ] as const;
    for (const [input, reason] of garbage) await expectAuthError(v.verify(input), reason, { token: input });
    const noSub = await k1.sign({ sub: undefined });
    expect((await expectAuthError(v.verify(noSub), 'malformed', { token: noSub })).message).toBe(
      'token has no subject',
    );
  });

  it('close() stops fetching but keeps cached keys', async () => {
    const server = await serve();
    const v = verifier(server);
    const token = await k1.sign();
    await v.verify(token);
    await v.close();
    expect((await v.verify(token)).id).toBe('alice');
    advanceClock(31_000);
    await expectAuthError(v.verify(await k1.sign({}, { kid: 'nope' })), 'jwks_unavailable');
    expect(server.fetches).toBe(1);
  });

  it('rejects unsafe or incomplete options', () => {
    const base = { issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [] } };
    const bad: Array<Partial<JwtVerifierOptions>> = [
      { jwks: undefined },
      { jwksUrl: 'http://127.0.0.1:1/jwks.json' },
      { algorithms: ['none'] },
      { algorithms: ['HS256'] },
      { algorithms: [] },
      { hs256Secret: 'too short' },
      { audience: [] },
      { issuer: '' },
      { clockToleranceSec: -1 },
    ];
    for (const options of bad) {
      expect(
        () => createJwtVerifier({ ...base, ...options } as JwtVerifierOptions),
        JSON.stringify(options),
      ).toThrow(TypeError);
    }
    expect(() =>
      createJwtVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUrl: 'file:///etc/passwd' }),
    ).toThrow(TypeError);
  });
});

afterAll(() => {
  vi.useRealTimers();
});

describe('JWT verifier: verified-token cache', () => {
  it('reuses the principal of the same token string within the window, and only that string', async () => {
    const server = await serve();
    const v = verifier(server);
    const token = await k1.sign({ sub: 'alice' });
    const first = await v.verify(token);
    expect(await v.verify(token)).toBe(first);
    // a token with the same header and payload but another signature is checked, and refused
    const [h, p] = token.split('.');
    const forged = `${h}.${p}.${(await attackerKey.sign({ sub: 'alice' })).split('.')[2]}`;
    await expectAuthError(v.verify(forged), 'bad_signature');
    // without the cache every call verifies and builds its own principal
    const uncached = verifier(server, { verifiedCacheMs: 0 });
    expect(await uncached.verify(token)).not.toBe(await uncached.verify(token));
  });

  it('never serves a cached token past its exp or past the window', async () => {
    const server = await serve();
    const v = verifier(server, { clockToleranceSec: 0, verifiedCacheMs: 60_000 });
    const token = await k1.sign({ sub: 'alice', exp: nowSec() + 5 });
    await v.verify(token);
    advanceClock(6_000);
    await expectAuthError(v.verify(token), 'expired');

    const windowed = verifier(server, { verifiedCacheMs: 1_000 });
    const long = await k1.sign({ sub: 'bob' });
    const before = await windowed.verify(long);
    advanceClock(1_500);
    const after = await windowed.verify(long);
    expect(after).not.toBe(before);
    expect(after.id).toBe('bob');
  });
});
