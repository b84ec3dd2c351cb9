import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/index.ts';
import { createAuthentication } from './plugin.ts';

const headers = (h: Record<string, string>) => ({ get: (name: string) => h[name.toLowerCase()] });
const codeOf = async (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: { extensions?: { code?: string } }) => e.extensions?.code,
  );

describe('failed-authentication throttle in createAuthentication', () => {
  const build = async () => {
    const lines: string[] = [];
    const config = loadConfig({
      base: {
        auth: {
          anonymous: { enabled: false },
          failureThrottle: { capacity: 2, refillPerSecond: 0.001 },
          failureLog: { linesPerWindow: 1, windowMs: 60_000 },
        },
      },
    });
    const auth = await createAuthentication(config.auth, { log: (m) => lines.push(m) });
    return { auth, lines };
  };

  it('throttles an address after its failures, and only requests that present a credential', async () => {
    const { auth, lines } = await build();
    const bad = headers({ 'x-api-key': 'nope' });
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push(await codeOf(auth.authenticate(bad, '198.51.100.1')));
    expect(codes).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED', 'RATE_LIMITED', 'RATE_LIMITED']);
    // another address, and no address at all (a subscription's recheck), are not throttled
    expect(await codeOf(auth.authenticate(bad, '198.51.100.2'))).toBe('UNAUTHENTICATED');
    expect(await codeOf(auth.authenticate(bad))).toBe('UNAUTHENTICATED');
    // no credential: a missing one is refused as such, never throttled
    expect(await codeOf(auth.authenticate(headers({}), '198.51.100.1'))).toBe('UNAUTHENTICATED');
    expect(auth.stats()).toEqual({
      failures: { unknown_api_key: 4, missing: 1 },
      throttled: 2,
      throttledAddresses: 2,
    });
    expect(lines).toEqual(['authentication refused']);
    await auth.close();
    expect(lines).toEqual(['authentication refused', 'authentication refusals suppressed']);
  });

  it('a missing credential takes no token', async () => {
    const { auth } = await build();
    for (let i = 0; i < 5; i++)
      expect(await codeOf(auth.authenticate(headers({}), '198.51.100.1'))).toBe('UNAUTHENTICATED');
    expect(await codeOf(auth.authenticate(headers({ 'x-api-key': 'nope' }), '198.51.100.1'))).toBe(
      'UNAUTHENTICATED',
    );
    await auth.close();
  });

  it('the 429 says when to retry', async () => {
    const { auth } = await build();
    const bad = headers({ authorization: 'Bearer x.y.z' });
    await codeOf(auth.authenticate(bad, 'a'));
    await codeOf(auth.authenticate(bad, 'a'));
    const error = await auth.authenticate(bad, 'a').catch((e: { extensions: Record<string, unknown> }) => e);
    const { http, ...extensions } = (error as { extensions: Record<string, unknown> }).extensions;
    expect(extensions).toMatchObject({ code: 'RATE_LIMITED', reason: 'auth_failures' });
    expect((http as { headers: Map<string, string> }).headers.get('retry-after')).toBe(
      String(extensions.retryAfterSeconds),
    );
    await auth.close();
  });
});
