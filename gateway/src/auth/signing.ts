import {
  assertSigningSecret,
  encodePrincipal,
  PRINCIPAL_HEADER,
  SIGNATURE_HEADER,
  SIGNED_HEADERS_HEADER,
  signatureHeader,
  signedHeadersValue,
  signingKey,
  TIMESTAMP_HEADER,
} from '@tollgate/kit/signing';
import type { Principal } from './principal.ts';

export interface RequestSignerOptions {
  /** The secret shared with every subgraph (`auth.signing.secret`, `TOLLGATE_SIGNING_SECRET`); at least 32 characters. */
  secret: string;
  /**
   * The clock, in epoch milliseconds.
   * @default Date.now
   */
  now?: () => number;
}

/** What the signer reads from a request context: the principal, when there is one. */
export type SignerContext = { readonly principal?: Principal | undefined } | undefined;

/**
 * Adds the signature headers to one subgraph fetch, given its exact body (the data source's `decorate`).
 * `signed` names other headers already in `headers` that the signature must cover (the header rules').
 */
export type RequestSigner = (
  headers: Record<string, string>,
  body: string,
  context: SignerContext,
  signed?: readonly string[],
) => void;

/**
 * Creates the `decorate` hook that signs every subgraph fetch, so subgraphs serve only the gateway and
 * learn the caller from it. The protocol (headers, `v1` MAC) is `@tollgate/kit/signing`, the module the
 * subgraphs verify with:
 *
 * - `x-tollgate-principal`: base64url JSON `{ id, kind, scopes, plan }` (claims are never forwarded);
 *   absent for a fetch on nobody's behalf (health checks), which is signed with an empty principal;
 * - `x-tollgate-timestamp`: epoch milliseconds;
 * - `x-tollgate-signature`: `v1=` + hex HMAC-SHA256(secret, `${timestamp}.${principal}.${sha256hex(body)}`);
 * - with `signed` headers (header rules): `x-tollgate-signed-headers` lists them and the signature is
 *   `v2=`, whose MAC also covers their values (docs/headers.md).
 *
 * Any of these headers already present is overwritten, so nothing upstream can pre-set them.
 */
export function createRequestSigner(options: RequestSignerOptions): RequestSigner {
  assertSigningSecret(options.secret, 'auth.signing.secret');
  const key = signingKey(options.secret);
  const now = options.now ?? Date.now;
  // A principal is frozen and lives for one request, but a request makes several fetches: encode once.
  const encoded = new WeakMap<Principal, string>();

  return (headers, body, context, signed) => {
    const principal = context?.principal;
    let value = '';
    if (principal && typeof principal === 'object') {
      value = encoded.get(principal) ?? encodePrincipal(principal);
      encoded.set(principal, value);
    }
    const timestamp = String(now());
    if (value) headers[PRINCIPAL_HEADER] = value;
    else delete headers[PRINCIPAL_HEADER];
    headers[TIMESTAMP_HEADER] = timestamp;
    const covered = signed?.length ? signed.map((n) => [n, headers[n] ?? ''] as const) : [];
    if (covered.length) headers[SIGNED_HEADERS_HEADER] = signedHeadersValue(covered);
    else delete headers[SIGNED_HEADERS_HEADER];
    headers[SIGNATURE_HEADER] = signatureHeader(key, timestamp, value, body, covered);
  };
}
