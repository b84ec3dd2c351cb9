import { createHash, createHmac, createSecretKey, type KeyObject, timingSafeEqual } from 'node:crypto';

/**
 * Who called, as the gateway forwards it: the gateway's principal without its claims. The gateway
 * decided it (JWT, API key or anonymous); a subgraph only learns it from a verified signature.
 */
export type ForwardedPrincipal = {
  readonly id: string;
  readonly kind: 'user' | 'apikey' | 'anonymous';
  readonly scopes: readonly string[];
  readonly plan: string;
};

/** The three headers the gateway adds to every subgraph fetch. */
export const PRINCIPAL_HEADER = 'x-tollgate-principal';
export const TIMESTAMP_HEADER = 'x-tollgate-timestamp';
export const SIGNATURE_HEADER = 'x-tollgate-signature';
/**
 * The fourth, on a fetch that carries headers of the gateway's header rules: their names, comma-separated,
 * in the order their values are signed (`v2` signatures only).
 */
export const SIGNED_HEADERS_HEADER = 'x-tollgate-signed-headers';

/** Anything that maps a lowercase header name to its value, as `IncomingMessage.headers` does. */
export type SignedHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

export type SignatureErrorCode = 'SIGNATURE_MISSING' | 'SIGNATURE_INVALID' | 'SIGNATURE_STALE';

/**
 * A request that did not come through the gateway: `status` is 401 when it carries no signature, 403
 * when the signature is forged, malformed or outside the time window. Messages are fixed strings: they
 * never repeat a header value.
 */
export class SignatureError extends Error {
  readonly code: SignatureErrorCode;
  readonly status: 401 | 403;

  constructor(code: SignatureErrorCode, message: string) {
    super(message);
    this.name = 'SignatureError';
    this.code = code;
    this.status = code === 'SIGNATURE_MISSING' ? 401 : 403;
  }
}

export interface VerifySignedRequestOptions {
  /** The secret the gateway signs with (`TOLLGATE_SIGNING_SECRET`), at least 32 characters. */
  secret: string;
  /**
   * How far the signed timestamp may lie from this clock, either way. It bounds how long a captured
   * request can be replayed, so keep it short.
   * @default 30000
   */
  maxSkewMs?: number;
  /** The clock. @default Date.now */
  now?: () => number;
}

export interface SignRequestOptions {
  secret: string;
  /** Milliseconds since the epoch to sign. @default Date.now() */
  timestamp?: number;
  /**
   * Other headers of the request to sign with it (lower-case names), as the gateway's header rules add
   * them: the signature becomes `v2` and `x-tollgate-signed-headers` lists them. @default none (`v1`)
   */
  headers?: Readonly<Record<string, string>>;
}

/** What a verified request says: who called, and the headers the signature covers besides its own. */
export interface VerifiedRequest {
  /** The forwarded principal; null for a request on nobody's behalf (health checks). */
  readonly principal: ForwardedPrincipal | null;
  /** The headers listed in `x-tollgate-signed-headers` and covered by the MAC, lower-case names; `{}` for `v1`. */
  readonly headers: Readonly<Record<string, string>>;
}

/** The shortest secret either end accepts. */
export const MIN_SECRET_LENGTH = 32;
const TIMESTAMP = /^\d{1,16}$/;
const SIGNATURE = /^(v1|v2)=([0-9a-f]{64})$/;
const KINDS = new Set(['user', 'apikey', 'anonymous']);
// Lower-case RFC 9110 tokens; the signature headers themselves are never in the list.
const SIGNED_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;
const OWN = new Set([PRINCIPAL_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER, SIGNED_HEADERS_HEADER]);

/** Header names and values to sign, in order. */
type Signed = readonly (readonly [name: string, value: string])[];

/**
 * `v1` MAC: HMAC-SHA256(secret, `${timestamp}.${principalHeader}.${sha256hex(body)}`), hex.
 * `v2` MAC (other headers signed too): HMAC-SHA256(secret, lines joined by `\n`: `v2`, the timestamp, the
 * principal header, sha256hex(body), the comma-separated names, then each value in that order). Names
 * are tokens and values hold no line break (RFC 9110 §5.1, §5.5), so the input is unambiguous.
 */
function mac(
  key: string | KeyObject,
  timestamp: string,
  principal: string,
  body: string | Uint8Array,
  signed: Signed = [],
): string {
  const bodyHash = createHash('sha256').update(body).digest('hex');
  const hmac = createHmac('sha256', key);
  if (!signed.length) return hmac.update(`${timestamp}.${principal}.${bodyHash}`).digest('hex');
  const lines = ['v2', timestamp, principal, bodyHash, signed.map(([n]) => n).join(',')];
  for (const [, value] of signed) lines.push(value);
  return hmac.update(lines.join('\n')).digest('hex');
}

/**
 * Throws a TypeError unless `secret` is a string of at least {@link MIN_SECRET_LENGTH} characters. The
 * message names `label` (a config key or variable) and never the value, since it ends up in logs.
 */
export function assertSigningSecret(secret: unknown, label = 'signing secret'): asserts secret is string {
  if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH) {
    throw new TypeError(`${label}: expected at least ${MIN_SECRET_LENGTH} characters`);
  }
}

/** The secret as a key object, for a signer that signs many requests (no key setup per HMAC). */
export function signingKey(secret: string): KeyObject {
  assertSigningSecret(secret);
  return createSecretKey(Buffer.from(secret, 'utf8'));
}

/**
 * The value of `x-tollgate-principal` for a principal: base64url JSON `{ id, kind, scopes, plan }`. Only
 * those four fields are copied, so a caller's claims are never forwarded.
 */
export function encodePrincipal(principal: ForwardedPrincipal): string {
  return Buffer.from(
    JSON.stringify({
      id: principal.id,
      kind: principal.kind,
      scopes: principal.scopes,
      plan: principal.plan,
    }),
    'utf8',
  ).toString('base64url');
}

/**
 * The value of `x-tollgate-signature` over one request: `v1=` + the hex MAC of its timestamp, encoded
 * principal (`''` for a request on nobody's behalf) and exact body bytes; `v2=` when `signed` names other
 * headers too (send their names in `x-tollgate-signed-headers`, {@link signedHeadersValue}). What
 * `verifySignedRequest` checks.
 */
export function signatureHeader(
  key: string | KeyObject,
  timestamp: string,
  principal: string,
  body: string | Uint8Array,
  signed: Signed = [],
): string {
  return `${signed.length ? 'v2' : 'v1'}=${mac(key, timestamp, principal, body, signed)}`;
}

/** The value of `x-tollgate-signed-headers` for the headers `signatureHeader` signed. */
export function signedHeadersValue(signed: Signed): string {
  return signed.map(([n]) => n).join(',');
}

/**
 * Checks that `names` can be signed (lower-case tokens, each once, none of the signature's own headers):
 * throws a TypeError naming the first that cannot.
 */
export function assertSignableNames(names: readonly string[]): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (!SIGNED_NAME.test(name) || OWN.has(name) || seen.has(name))
      throw new TypeError(`cannot sign header ${JSON.stringify(name)}`);
    seen.add(name);
  }
}

function single(value: string | readonly string[] | undefined): string | undefined {
  // A repeated header is ambiguous; treating it as malformed avoids guessing which copy counts.
  if (Array.isArray(value)) return value.length === 1 ? value[0] : ',';
  return value as string | undefined;
}

/**
 * The gateway's headers for one request: what `verifySignedRequest` accepts. `principal` null signs an
 * empty principal (health checks and other requests on nobody's behalf). The gateway's signer
 * (`createRequestSigner`) builds the same headers from `encodePrincipal` and `signatureHeader`.
 */
export function signRequest(
  principal: ForwardedPrincipal | null,
  body: string | Uint8Array,
  options: SignRequestOptions,
): Record<string, string> {
  assertSigningSecret(options.secret);
  const timestamp = String(options.timestamp ?? Date.now());
  const encoded = principal === null ? '' : encodePrincipal(principal);
  const signed = Object.entries(options.headers ?? {});
  assertSignableNames(signed.map(([n]) => n));
  const headers: Record<string, string> = {
    [TIMESTAMP_HEADER]: timestamp,
    [SIGNATURE_HEADER]: signatureHeader(options.secret, timestamp, encoded, body, signed),
  };
  if (encoded) headers[PRINCIPAL_HEADER] = encoded;
  if (signed.length) headers[SIGNED_HEADERS_HEADER] = signedHeadersValue(signed);
  return headers;
}

/**
 * Checks that a request came through the gateway: a `v1` HMAC over its timestamp, principal and exact
 * body bytes (a `v2` one also over the headers `x-tollgate-signed-headers` lists), made with the shared
 * secret within `maxSkewMs` of now. Returns the forwarded principal (null for a request signed with an
 * empty principal) and the signed headers; throws a `SignatureError` otherwise.
 *
 * Only the headers it returns are the gateway's: any other header may have been added on the way.
 * A captured request can be replayed unchanged inside the window; the window is what bounds that.
 */
export function verifyRequestSignature(
  headers: SignedHeaders,
  rawBody: string | Uint8Array,
  options: VerifySignedRequestOptions,
): VerifiedRequest {
  assertSigningSecret(options.secret);
  const maxSkewMs = options.maxSkewMs ?? 30_000;
  const signature = single(headers[SIGNATURE_HEADER]);
  const timestamp = single(headers[TIMESTAMP_HEADER]);
  // An absent principal header is the empty principal: the signature still covers it.
  const principal = single(headers[PRINCIPAL_HEADER]) ?? '';
  if (signature === undefined && timestamp === undefined) {
    throw new SignatureError(
      'SIGNATURE_MISSING',
      'request signature missing: subgraphs only serve the gateway',
    );
  }
  if (signature === undefined || timestamp === undefined || !TIMESTAMP.test(timestamp)) {
    throw new SignatureError('SIGNATURE_INVALID', 'malformed request signature');
  }
  const parts = SIGNATURE.exec(signature);
  if (!parts) throw new SignatureError('SIGNATURE_INVALID', 'malformed request signature');
  const [, version, given] = parts as unknown as [string, 'v1' | 'v2', string];
  const signed = signedHeaders(version, headers);

  // Compare before looking at the clock, so a forged request always reads as forged.
  const expected = Buffer.from(mac(options.secret, timestamp, principal, rawBody, signed), 'hex');
  if (!timingSafeEqual(expected, Buffer.from(given, 'hex'))) {
    throw new SignatureError('SIGNATURE_INVALID', 'bad request signature');
  }
  const now = options.now?.() ?? Date.now();
  if (Math.abs(now - Number(timestamp)) > maxSkewMs) {
    throw new SignatureError('SIGNATURE_STALE', `request signature outside the ${maxSkewMs} ms window`);
  }
  return {
    principal: principal === '' ? null : decodePrincipal(principal),
    headers: Object.freeze(Object.fromEntries(signed)),
  };
}

/**
 * Checks a request's signature as {@link verifyRequestSignature} does and resolves to its forwarded
 * principal, or null for a request signed with an empty principal.
 */
export function verifySignedRequest(
  headers: SignedHeaders,
  rawBody: string | Uint8Array,
  options: VerifySignedRequestOptions,
): ForwardedPrincipal | null {
  return verifyRequestSignature(headers, rawBody, options).principal;
}

/** The names and values a signature of `version` covers besides its own headers. */
function signedHeaders(version: 'v1' | 'v2', headers: SignedHeaders): Signed {
  const list = single(headers[SIGNED_HEADERS_HEADER]);
  // v1 signs no other header: a list beside it was not the gateway's
  if (version === 'v1') {
    if (list !== undefined) throw new SignatureError('SIGNATURE_INVALID', 'malformed request signature');
    return [];
  }
  if (!list) throw new SignatureError('SIGNATURE_INVALID', 'malformed request signature');
  const names = list.split(',');
  try {
    assertSignableNames(names);
  } catch {
    throw new SignatureError('SIGNATURE_INVALID', 'malformed signed header list');
  }
  return names.map((name) => {
    const raw = headers[name];
    // a signed header dropped (or sent twice where node:http keeps the copies apart) on the way
    const value = Array.isArray(raw) ? (raw.length === 1 ? (raw[0] as string) : undefined) : raw;
    if (typeof value !== 'string') throw new SignatureError('SIGNATURE_INVALID', 'bad request signature');
    return [name, value] as const;
  });
}

function decodePrincipal(encoded: string): ForwardedPrincipal {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  const p = value as Partial<Record<keyof ForwardedPrincipal, unknown>> | undefined;
  if (
    typeof p !== 'object' ||
    p === null ||
    typeof p.id !== 'string' ||
    p.id === '' ||
    typeof p.kind !== 'string' ||
    !KINDS.has(p.kind) ||
    !Array.isArray(p.scopes) ||
    !p.scopes.every((s) => typeof s === 'string') ||
    typeof p.plan !== 'string'
  ) {
    // Signed by someone holding the secret, yet not a principal: a gateway bug, not a caller's.
    throw new SignatureError('SIGNATURE_INVALID', 'malformed signed principal');
  }
  return Object.freeze({
    id: p.id,
    kind: p.kind as ForwardedPrincipal['kind'],
    scopes: Object.freeze([...(p.scopes as string[])]),
    plan: p.plan,
  });
}
