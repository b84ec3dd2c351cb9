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
}

/** The shortest secret either end accepts. */
export const MIN_SECRET_LENGTH = 32;
const TIMESTAMP = /^\d{1,16}$/;
const SIGNATURE = /^v1=([0-9a-f]{64})$/;
const KINDS = new Set(['user', 'apikey', 'anonymous']);

/** `v1` MAC: HMAC-SHA256(secret, `${timestamp}.${principalHeader}.${sha256hex(body)}`), hex. */
function mac(
  key: string | KeyObject,
  timestamp: string,
  principal: string,
  body: string | Uint8Array,
): string {
  const bodyHash = createHash('sha256').update(body).digest('hex');
  return createHmac('sha256', key).update(`${timestamp}.${principal}.${bodyHash}`).digest('hex');
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
 * principal (`''` for a request on nobody's behalf) and exact body bytes. What `verifySignedRequest` checks.
 */
export function signatureHeader(
  key: string | KeyObject,
  timestamp: string,
  principal: string,
  body: string | Uint8Array,
): string {
  return `v1=${mac(key, timestamp, principal, body)}`;
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
  const headers: Record<string, string> = {
    [TIMESTAMP_HEADER]: timestamp,
    [SIGNATURE_HEADER]: signatureHeader(options.secret, timestamp, encoded, body),
  };
  if (encoded) headers[PRINCIPAL_HEADER] = encoded;
  return headers;
}

/**
 * Checks that a request came through the gateway: a `v1` HMAC over its timestamp, principal and exact
 * body bytes, made with the shared secret within `maxSkewMs` of now. Resolves to the forwarded principal,
 * or null for a request signed with an empty principal; throws a `SignatureError` otherwise.
 *
 * A captured request can be replayed unchanged inside the window; the window is what bounds that.
 */
export function verifySignedRequest(
  headers: SignedHeaders,
  rawBody: string | Uint8Array,
  options: VerifySignedRequestOptions,
): ForwardedPrincipal | null {
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
  const given = SIGNATURE.exec(signature)?.[1];
  if (given === undefined) throw new SignatureError('SIGNATURE_INVALID', 'malformed request signature');

  // Compare before looking at the clock, so a forged request always reads as forged.
  const expected = Buffer.from(mac(options.secret, timestamp, principal, rawBody), 'hex');
  if (!timingSafeEqual(expected, Buffer.from(given, 'hex'))) {
    throw new SignatureError('SIGNATURE_INVALID', 'bad request signature');
  }
  const now = options.now?.() ?? Date.now();
  if (Math.abs(now - Number(timestamp)) > maxSkewMs) {
    throw new SignatureError('SIGNATURE_STALE', `request signature outside the ${maxSkewMs} ms window`);
  }
  return principal === '' ? null : decodePrincipal(principal);
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
