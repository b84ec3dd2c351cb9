import { randomUUID } from 'node:crypto';
import { link, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type CryptoKey,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
  SignJWT,
} from 'jose';
import type { JsonWebKeySet } from './jwt.ts';

/** The dev stack's RS256 signing key. For development and tests only. */
export type DevSigningKey = {
  /** RFC 7638 thumbprint of the public key. */
  readonly kid: string;
  readonly privateKey: CryptoKey;
  /** The public key set the gateway trusts (`createJwtVerifier({ jwks })`). */
  readonly jwks: JsonWebKeySet;
  /** The private JWK file (mode 0600). */
  readonly keyFile: string;
  /** The public JWKS file (for `createJwtVerifier({ jwksFile })`). */
  readonly jwksFile: string;
};

export interface DevTokenClaims {
  sub: string;
  /** Written space-separated in `scope`. @default [] */
  scopes?: readonly string[];
  /** Written in `plan` when given. */
  plan?: string;
  /** Lifetime in seconds. @default 3600 */
  ttlSec?: number;
}

export interface DevTokenOptions {
  issuer: string;
  audience: string | readonly string[];
  key: DevSigningKey;
  /** JWT `typ` header. @default 'at+jwt' */
  typ?: string;
}

const KEY_FILE = 'dev-signing-key.jwk.json';
const JWKS_FILE = 'dev-jwks.json';

/**
 * Loads the dev signing key from `dir`, creating an RS256 key pair there on first use. Safe when several
 * processes start at once: the key file is published with link(2), so exactly one key wins and nobody
 * reads a half-written file.
 */
export async function loadDevSigningKey(dir: string): Promise<DevSigningKey> {
  const keyFile = join(dir, KEY_FILE);
  const jwksFile = join(dir, JWKS_FILE);
  await mkdir(dir, { recursive: true, mode: 0o700 });

  let privateJwk = await readJwk(keyFile);
  if (!privateJwk) {
    const { privateKey } = await generateKeyPair('RS256', { extractable: true, modulusLength: 2048 });
    const jwk = await exportJWK(privateKey);
    const candidate: JWK = { ...jwk, kid: await thumbprint(jwk), alg: 'RS256', use: 'sig' };
    const temp = join(dir, `.${KEY_FILE}.${randomUUID()}.tmp`);
    await writeFile(temp, `${JSON.stringify(candidate)}\n`, { mode: 0o600, flag: 'wx' });
    try {
      await link(temp, keyFile);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      await rm(temp, { force: true });
    }
    privateJwk = await readJwk(keyFile);
    if (!privateJwk) throw new Error(`dev key: ${keyFile} vanished while being created`);
  }

  const kid = typeof privateJwk.kid === 'string' ? privateJwk.kid : await thumbprint(privateJwk);
  const publicJwk = { kty: privateJwk.kty, n: privateJwk.n, e: privateJwk.e, kid, alg: 'RS256', use: 'sig' };
  const jwks: JsonWebKeySet = Object.freeze({ keys: Object.freeze([Object.freeze(publicJwk)]) });
  const privateKey = await importJWK({ ...privateJwk, key_ops: undefined }, 'RS256');
  if (privateKey instanceof Uint8Array || privateKey.type !== 'private') {
    throw new Error(`dev key: ${keyFile} does not hold an RSA private key`);
  }
  await writePublicJwks(jwksFile, jwks);
  return Object.freeze({ kid, privateKey, jwks, keyFile, jwksFile });
}

/** Signs an access token with the dev key, as `npm run token` does. */
export async function signDevToken(claims: DevTokenClaims, options: DevTokenOptions): Promise<string> {
  const ttlSec = claims.ttlSec ?? 3600;
  if (!Number.isInteger(ttlSec) || ttlSec <= 0)
    throw new TypeError('signDevToken: ttlSec must be a positive integer');
  const payload: Record<string, unknown> = { scope: (claims.scopes ?? []).join(' ') };
  if (claims.plan !== undefined) payload.plan = claims.plan;
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'RS256', kid: options.key.kid, typ: options.typ ?? 'at+jwt' })
    .setSubject(claims.sub)
    .setIssuer(options.issuer)
    .setAudience(typeof options.audience === 'string' ? options.audience : [...options.audience])
    .setIssuedAt()
    .setExpirationTime(`${ttlSec}s`)
    .sign(options.key.privateKey);
}

async function readJwk(file: string): Promise<JWK | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const jwk: unknown = JSON.parse(text);
  if (
    typeof jwk !== 'object' ||
    jwk === null ||
    (jwk as JWK).kty !== 'RSA' ||
    typeof (jwk as JWK).d !== 'string'
  ) {
    throw new Error(`dev key: ${file} is not an RSA private JWK`);
  }
  return jwk as JWK;
}

function thumbprint(jwk: JWK): Promise<string> {
  return calculateJwkThumbprint({ kty: jwk.kty, n: jwk.n, e: jwk.e });
}

// Rewritten on each load (atomically) so it always matches the private key, even if someone deleted it.
async function writePublicJwks(file: string, jwks: JsonWebKeySet): Promise<void> {
  const text = `${JSON.stringify(jwks, null, 2)}\n`;
  const current = await readFile(file, 'utf8').catch(() => undefined);
  if (current === text) return;
  const temp = `${file}.${randomUUID()}.tmp`;
  await writeFile(temp, text, { mode: 0o644 });
  await rename(temp, file);
}
