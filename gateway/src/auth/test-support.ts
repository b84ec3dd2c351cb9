// Test helpers for this folder only (not exported from index.ts): a JWKS endpoint on a real local HTTP
// server, and keys that sign test tokens.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import {
  type CryptoKey,
  exportJWK,
  exportPKCS8,
  exportSPKI,
  generateKeyPair,
  type JWK,
  type JWTHeaderParameters,
  type JWTPayload,
  SignJWT,
} from 'jose';
import { expect } from 'vitest';
import { AuthError, type AuthErrorReason } from './auth-error.ts';

export const ISSUER = 'https://issuer.test';
export const AUDIENCE = 'tollgate';

export type TestKey = {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
  /** PEM and JWK text of both halves: must never show up in an error. */
  material: string[];
  sign(payload?: JWTPayload, header?: Partial<JWTHeaderParameters>): Promise<string>;
};

export const nowSec = (): number => Math.floor(Date.now() / 1000);

export async function createTestKey(
  kid: string,
  alg: 'RS256' | 'ES256' | 'EdDSA' = 'RS256',
): Promise<TestKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  const privateJwk = await exportJWK(privateKey);
  const material = [
    stripPem(await exportSPKI(publicKey)),
    stripPem(await exportPKCS8(privateKey)),
    ...Object.values(privateJwk).filter((v): v is string => typeof v === 'string' && v.length > 16),
  ];
  return {
    kid,
    alg,
    privateKey,
    publicJwk,
    material,
    sign: (payload = {}, header = {}) =>
      new SignJWT({ sub: 'alice', iss: ISSUER, aud: AUDIENCE, exp: nowSec() + 3600, ...payload })
        .setProtectedHeader({ alg, kid, typ: 'at+jwt', ...header })
        .sign(privateKey),
  };
}

// Base64 body lines of a PEM: what a leak would look like.
function stripPem(pem: string): string {
  return pem
    .replace(/-----[A-Z ]+-----/g, '')
    .replace(/\s+/g, '')
    .slice(0, 64);
}

export type TestServer = {
  url: string;
  /** JWKS URL (path /jwks.json). */
  jwksUrl: string;
  /** Every request path received, in order. */
  requests: string[];
  /** Number of requests for the JWKS. */
  readonly fetches: number;
  setKeys(keys: JWK[]): void;
  /** How to answer: the key set, a status code, a raw body, or never. */
  mode: 'ok' | 'hang' | { status: number; body: string };
  close(): Promise<void>;
};

export async function startTestServer(keys: JWK[] = []): Promise<TestServer> {
  let jwks = { keys };
  const requests: string[] = [];
  const state: TestServer = {
    url: '',
    jwksUrl: '',
    requests,
    get fetches() {
      return requests.filter((p) => p === '/jwks.json').length;
    },
    setKeys(next) {
      jwks = { keys: next };
    },
    mode: 'ok',
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    requests.push(req.url ?? '');
    const { mode } = state;
    if (mode === 'hang') return;
    if (mode !== 'ok') {
      res.writeHead(mode.status, { 'content-type': 'text/html' }).end(mode.body);
      return;
    }
    if (req.url !== '/jwks.json') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(JSON.stringify(jwks));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  state.url = `http://127.0.0.1:${port}`;
  state.jwksUrl = `${state.url}/jwks.json`;
  return state;
}

/**
 * Awaits a rejection and checks it is an AuthError with this reason whose message (and whole
 * inspected form, causes included) echoes neither the token nor any key material.
 */
export async function expectAuthError(
  promise: Promise<unknown>,
  reason: AuthErrorReason,
  secrets: { token?: string; material?: readonly string[] } = {},
): Promise<AuthError> {
  const err = await promise.then(
    () => expect.fail(`expected AuthError(${reason}), got success`),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AuthError);
  const authError = err as AuthError;
  expect(authError.reason).toBe(reason);
  expect(authError.code).toBe('UNAUTHENTICATED');
  expect(authError.message.length).toBeGreaterThan(0);
  const shown = [authError.message, inspect(authError, { depth: 10 }), JSON.stringify(authError)];
  const needles = [...(secrets.material ?? [])];
  if (secrets.token) {
    needles.push(secrets.token, ...secrets.token.split('.').filter((part) => part.length >= 8));
  }
  for (const text of shown) {
    for (const needle of needles)
      expect(text.includes(needle), 'error echoes a credential or key').toBe(false);
  }
  return authError;
}
