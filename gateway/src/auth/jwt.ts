import { readFileSync } from 'node:fs';
import {
  type CompactJWSHeaderParameters,
  type CryptoKey,
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  errors,
  type FetchImplementation,
  type FlattenedJWSInput,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
  type JWTVerifyOptions,
  jwtVerify,
} from 'jose';
import { AuthError } from './auth-error.ts';
import type { Principal } from './principal.ts';

/** A JSON Web Key Set (RFC 7517 §5), as an identity provider publishes it. */
export type JsonWebKeySet = { readonly keys: ReadonlyArray<Readonly<Record<string, unknown>>> };

export interface JwtVerifierOptions {
  /**
   * The identity provider's JWKS URL, fetched with jose's remote key set. This is the only URL ever
   * fetched: `jku`/`x5u` header values are ignored (RFC 8725 §3.10, SSRF). Set at most one of
   * `jwksUrl`, `jwksFile` and `jwks`.
   */
  jwksUrl?: string | URL;
  /**
   * A JWKS JSON file, read once at creation. Private members are dropped, so the dev signing key file
   * can be used as is.
   */
  jwksFile?: string;
  /** An inline JWKS (private members are dropped, as for `jwksFile`). */
  jwks?: JsonWebKeySet;
  /**
   * Shared secret for HS256 tokens, at least 32 bytes. HS256 is accepted only when this is set, and
   * this secret is the only key it is ever checked with (RFC 8725 §3.1: one key, one algorithm).
   */
  hs256Secret?: string | Uint8Array;
  /**
   * Asymmetric algorithms accepted; always passed to jose, which otherwise accepts any algorithm that
   * fits the key. `HS256` is added when `hs256Secret` is set. `none` is never accepted.
   * @default ['RS256', 'ES256', 'EdDSA']
   */
  algorithms?: readonly string[];
  /** Accepted `iss` value(s); the claim is required. */
  issuer: string | readonly string[];
  /** Accepted `aud` value(s); the claim is required, and an array `aud` passes when one member matches. */
  audience: string | readonly string[];
  /**
   * Leeway for `exp` and `nbf`, in seconds.
   * @default 30
   */
  clockToleranceSec?: number;
  /**
   * Required `typ` header, such as `'at+jwt'` (RFC 9068), so that ID tokens (`typ: 'JWT'`) are refused
   * as access tokens (RFC 8725 §3.11). Compared case-insensitively, `application/` prefix optional.
   * @default undefined (not checked)
   */
  typ?: string;
  /**
   * Claim holding the scopes: a space-separated string or an array of strings. When the token lacks
   * it, `scp` is read instead.
   * @default 'scope'
   */
  scopeClaim?: string;
  /**
   * Claim holding the principal's plan.
   * @default 'plan'
   */
  planClaim?: string;
  /**
   * Plan of a token without a plan claim.
   * @default 'free'
   */
  defaultPlan?: string;
  /**
   * Remote JWKS: after a fetch, how long an unknown `kid` waits before it may cause another fetch, in
   * milliseconds. A failed fetch also blocks fetching for this long, so a flood of unknown `kid`s costs
   * the identity provider at most one request per cooldown even while it is failing.
   * @default 30_000
   */
  cooldownDuration?: number;
  /**
   * Remote JWKS: how long fetched keys are trusted without a refetch, in milliseconds. While the
   * endpoint is down, tokens signed by a cached key keep verifying until then; after it auth fails
   * closed (`jwks_unavailable`).
   * @default 600_000
   */
  cacheMaxAge?: number;
  /**
   * How long a verified token's principal is reused for the same token string, in milliseconds (never
   * past the token's `exp`). A client sends the same token on every request, and checking an RS256
   * signature costs more than a whole subgraph round trip; 0 verifies every request.
   * @default 30_000
   */
  verifiedCacheMs?: number;
  /**
   * Remote JWKS: timeout of one fetch, in milliseconds.
   * @default 5_000
   */
  timeoutDuration?: number;
}

export interface JwtVerifier {
  /** Resolves to a `user` principal (id = `sub`), or rejects with an `AuthError`. */
  verify(token: string): Promise<Principal>;
  /** Aborts an in-flight JWKS fetch and stops further fetches; cached keys keep verifying. */
  close(): Promise<void>;
}

const ASYMMETRIC_ALGORITHMS = new Set([
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
]);
const DEFAULT_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const;
// Members that make a JWK private (RFC 7518 §6, RFC 8037, AKP's `priv`); `k` is a symmetric secret.
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'];
// Cheap shape check before any parsing: header.payload.signature in base64url. Real tokens are a few
// KB; the cap keeps a hostile header from costing base64 and JSON work.
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const MAX_TOKEN_LENGTH = 16 * 1024;
/** Verified tokens remembered at once (each entry holds the token string: ≲ 16 MB at the worst). */
const VERIFIED_CACHE_MAX = 1_000;

type KeySet = (header: CompactJWSHeaderParameters, token: FlattenedJWSInput) => Promise<CryptoKey>;

class RemoteJwksUnavailable extends Error {
  override name = 'RemoteJwksUnavailable';
}

class Verifier implements JwtVerifier {
  #keySet: KeySet | undefined;
  #secret: Uint8Array | undefined;
  #options: JWTVerifyOptions;
  #scopeClaim: string;
  #planClaim: string;
  #defaultPlan: string;
  #cooldown: number;
  #fetchBlockedUntil = 0;
  #closed = new AbortController();
  /** Verified tokens → principal and until when it may be reused (insertion order = age, for eviction). */
  readonly #verified = new Map<string, { principal: Principal; until: number }>();
  #verifiedCacheMs = 30_000;

  constructor(options: JwtVerifierOptions) {
    const sources = [options.jwksUrl, options.jwksFile, options.jwks].filter((s) => s !== undefined);
    if (sources.length > 1) throw new TypeError('jwt: set only one of jwksUrl, jwksFile and jwks');
    if (sources.length === 0 && options.hs256Secret === undefined) {
      throw new TypeError('jwt: set one of jwksUrl, jwksFile, jwks or hs256Secret');
    }
    const issuer = nonEmptyList(options.issuer, 'issuer');
    const audience = nonEmptyList(options.audience, 'audience');
    const clockTolerance = options.clockToleranceSec ?? 30;
    if (!Number.isFinite(clockTolerance) || clockTolerance < 0) {
      throw new TypeError('jwt.clockToleranceSec: expected a number >= 0');
    }

    const algorithms = [...(options.algorithms ?? DEFAULT_ALGORITHMS)];
    for (const alg of algorithms) {
      if (alg === 'HS256' && options.hs256Secret !== undefined) continue;
      if (!ASYMMETRIC_ALGORITHMS.has(alg)) {
        throw new TypeError(
          alg === 'HS256'
            ? 'jwt.algorithms: HS256 needs hs256Secret'
            : `jwt.algorithms: ${JSON.stringify(alg)} is not an accepted algorithm`,
        );
      }
    }
    if (options.hs256Secret !== undefined) {
      const secret =
        typeof options.hs256Secret === 'string'
          ? new TextEncoder().encode(options.hs256Secret)
          : Uint8Array.from(options.hs256Secret);
      // RFC 7518 §3.2: an HS256 key must be at least as long as the hash output.
      if (secret.byteLength < 32) throw new TypeError('jwt.hs256Secret: expected at least 32 bytes');
      this.#secret = secret;
      if (!algorithms.includes('HS256')) algorithms.push('HS256');
    }
    if (algorithms.length === 0) throw new TypeError('jwt.algorithms: expected at least one algorithm');

    this.#cooldown = options.cooldownDuration ?? 30_000;
    this.#verifiedCacheMs = options.verifiedCacheMs ?? 30_000;
    if (options.jwksUrl !== undefined) {
      const url = new URL(options.jwksUrl);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') {
        throw new TypeError('jwt.jwksUrl: expected an http(s) URL');
      }
      this.#keySet = createRemoteJWKSet(url, {
        cooldownDuration: this.#cooldown,
        cacheMaxAge: options.cacheMaxAge ?? 600_000,
        timeoutDuration: options.timeoutDuration ?? 5_000,
        [customFetch]: this.#fetchJwks,
      });
    } else if (options.jwksFile !== undefined) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(readFileSync(options.jwksFile, 'utf8'));
      } catch (cause) {
        throw new TypeError(`jwt.jwksFile: cannot read a JSON Web Key Set from ${options.jwksFile}`, {
          cause,
        });
      }
      this.#keySet = localKeySet(parsed, 'jwt.jwksFile');
    } else if (options.jwks !== undefined) {
      this.#keySet = localKeySet(options.jwks, 'jwt.jwks');
    }

    this.#options = {
      algorithms,
      issuer,
      audience,
      clockTolerance,
      // An access token without exp would be valid forever; without sub there is no principal id.
      requiredClaims: ['exp', 'sub'],
      ...(options.typ === undefined ? {} : { typ: options.typ }),
    };
    this.#scopeClaim = options.scopeClaim ?? 'scope';
    this.#planClaim = options.planClaim ?? 'plan';
    this.#defaultPlan = options.defaultPlan ?? 'free';
  }

  async verify(token: string): Promise<Principal> {
    if (typeof token !== 'string' || token.length === 0) throw new AuthError('missing', 'token missing');
    if (token.length > MAX_TOKEN_LENGTH) throw new AuthError('malformed', 'malformed token');
    // a token verified a moment ago had its shape checked then (only verified tokens are kept)
    const now = Date.now();
    const cached = this.#verified.get(token);
    if (cached) {
      if (now < cached.until) return cached.principal;
      this.#verified.delete(token);
    }
    if (!COMPACT_JWS.test(token)) throw new AuthError('malformed', 'malformed token');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.#getKey, this.#options));
    } catch (err) {
      throw toAuthError(err);
    }
    const principal = this.#toPrincipal(payload);
    if (this.#verifiedCacheMs > 0 && typeof payload.exp === 'number') {
      // Never reused past exp (without the clock tolerance jose allows), nor longer than the window.
      const until = Math.min(payload.exp * 1000, now + this.#verifiedCacheMs);
      if (until > now) {
        if (this.#verified.size >= VERIFIED_CACHE_MAX) {
          this.#verified.delete(this.#verified.keys().next().value as string);
        }
        this.#verified.set(token, { principal, until });
      }
    }
    return principal;
  }

  async close(): Promise<void> {
    this.#closed.abort(new RemoteJwksUnavailable('JWT verifier closed'));
  }

  // jose checks the algorithm allow-list before calling this, so `alg` is one we accept. The header
  // is attacker-controlled: `kid` is only compared against the trusted set, `jku`/`x5u`/`jwk` are
  // never read. Leave this intact.
  #getKey = async (
    header: CompactJWSHeaderParameters,
    token: FlattenedJWSInput,
  ): Promise<CryptoKey | Uint8Array> => {
    if (header.alg === 'HS256') {
      if (this.#secret) return this.#secret;
      throw new AuthError('alg_not_allowed');
    }
    if (!this.#keySet) throw new AuthError('unknown_key');
    try {
      return await this.#keySet(header, token);
    } catch (err) {
      if (err instanceof errors.JWKSNoMatchingKey) throw new AuthError('unknown_key');
      // Several keys fit a token without `kid` (or duplicate kids): refuse rather than try each one.
      if (err instanceof errors.JWKSMultipleMatchingKeys)
        throw new AuthError('unknown_key', 'ambiguous signing key');
      // Everything else is the key source failing (network, timeout, HTTP status, bad key set).
      throw new AuthError('jwks_unavailable', undefined, { cause: err });
    }
  };

  // jose dedupes concurrent fetches and rate-limits refetches after a success, but retries at once
  // after a failure. This wrapper adds the missing half: after a failure, no fetch for a cooldown, so
  // an outage plus a flood of tokens cannot hammer the identity provider. It also turns bad bodies
  // into errors without echoing them (JSON.parse errors quote their input).
  #fetchJwks: FetchImplementation = async (url, init) => {
    if (this.#closed.signal.aborted) throw this.#closed.signal.reason;
    if (Date.now() < this.#fetchBlockedUntil) {
      throw new RemoteJwksUnavailable('JWKS fetch failed recently; waiting for the cooldown');
    }
    try {
      const response = await fetch(url, {
        ...init,
        signal: AbortSignal.any([init.signal, this.#closed.signal]),
      });
      if (response.status !== 200) {
        await response.body?.cancel();
        throw new RemoteJwksUnavailable(`JWKS endpoint answered HTTP ${response.status}`);
      }
      let body: unknown;
      try {
        body = await response.json();
      } catch (err) {
        if (err instanceof SyntaxError)
          throw new RemoteJwksUnavailable('JWKS endpoint returned invalid JSON');
        throw err;
      }
      if (!isKeySet(body)) throw new RemoteJwksUnavailable('JWKS endpoint returned no key set');
      return Response.json(body);
    } catch (err) {
      this.#fetchBlockedUntil = Date.now() + this.#cooldown;
      throw err;
    }
  };

  #toPrincipal(payload: JWTPayload): Principal {
    const { sub } = payload;
    if (typeof sub !== 'string' || sub.length === 0) throw new AuthError('malformed', 'token has no subject');
    const plan = payload[this.#planClaim];
    return Object.freeze({
      id: sub,
      kind: 'user',
      scopes: readScopes(payload[this.#scopeClaim] ?? payload.scp),
      plan: typeof plan === 'string' && plan.length > 0 ? plan : this.#defaultPlan,
      claims: Object.freeze({ ...payload }),
    });
  }
}

/** Creates a JWT access-token verifier (panva/jose, RFC 8725). */
export function createJwtVerifier(options: JwtVerifierOptions): JwtVerifier {
  return new Verifier(options);
}

// Never pass jose's error on as `cause`: its claim errors carry the decoded payload, and its parse
// errors quote the token. Messages here are fixed strings.
function toAuthError(err: unknown): AuthError {
  if (err instanceof AuthError) return err;
  if (err instanceof errors.JWTExpired) return new AuthError('expired', 'token expired');
  if (err instanceof errors.JWTClaimValidationFailed) {
    const missing = err.reason === 'missing';
    switch (err.claim) {
      case 'iss':
        return new AuthError('wrong_issuer', missing ? 'token has no issuer' : 'wrong issuer');
      case 'aud':
        return new AuthError('wrong_audience', missing ? 'token has no audience' : 'wrong audience');
      case 'typ':
        return new AuthError('wrong_type', 'wrong token type');
      case 'nbf':
        if (err.reason === 'check_failed') return new AuthError('not_yet_valid', 'token not yet valid');
        break;
      case 'exp':
        if (missing) return new AuthError('malformed', 'token has no expiry');
        break;
      case 'sub':
        if (missing) return new AuthError('malformed', 'token has no subject');
        break;
    }
    return new AuthError('malformed', 'malformed token claims');
  }
  if (err instanceof errors.JOSEAlgNotAllowed)
    return new AuthError('alg_not_allowed', 'token algorithm not allowed');
  if (err instanceof errors.JWSSignatureVerificationFailed)
    return new AuthError('bad_signature', 'bad token signature');
  if (err instanceof errors.JWKSNoMatchingKey) return new AuthError('unknown_key', 'unknown signing key');
  // JWSInvalid, JWTInvalid, JOSENotSupported (unknown `crit`), and anything unexpected: fail closed.
  return new AuthError('malformed', 'malformed token');
}

function readScopes(value: unknown): readonly string[] {
  const list =
    typeof value === 'string'
      ? value.split(/\s+/)
      : Array.isArray(value)
        ? value.filter((s): s is string => typeof s === 'string')
        : [];
  return Object.freeze([...new Set(list.filter((s) => s.length > 0))]);
}

function nonEmptyList(value: string | readonly string[], name: string): string | string[] {
  const list = typeof value === 'string' ? [value] : [...(value ?? [])];
  if (list.length === 0 || list.some((v) => typeof v !== 'string' || v.length === 0)) {
    throw new TypeError(`jwt.${name}: expected a non-empty string or list of strings`);
  }
  return typeof value === 'string' ? value : list;
}

function isKeySet(value: unknown): value is JSONWebKeySet {
  return (
    typeof value === 'object' &&
    value !== null &&
    Array.isArray((value as { keys?: unknown }).keys) &&
    (value as { keys: unknown[] }).keys.every((k) => typeof k === 'object' && k !== null && !Array.isArray(k))
  );
}

// Local sets come from our own files (the dev key file holds the private key too): keep public members
// only, and drop symmetric keys, which are configured through hs256Secret alone.
function localKeySet(jwks: unknown, option: string): KeySet {
  if (!isKeySet(jwks)) throw new TypeError(`${option}: expected a JSON Web Key Set ({ "keys": [...] })`);
  const keys: JWK[] = [];
  for (const jwk of jwks.keys) {
    if (jwk.kty === 'oct') continue;
    const copy: Record<string, unknown> = { ...jwk };
    const wasPrivate = PRIVATE_JWK_MEMBERS.some((m) => m in copy);
    for (const m of PRIVATE_JWK_MEMBERS) delete copy[m];
    // A private key's key_ops say 'sign', which would make jose skip it for verification.
    if (wasPrivate) delete copy.key_ops;
    keys.push(copy as JWK);
  }
  return createLocalJWKSet({ keys });
}
