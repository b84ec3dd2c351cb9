// Gateway → subgraph trust, both ends of it: the gateway signs each fetch (principal, timestamp, body
// hash, the headers its header rules add) with a shared secret; subgraphs verify it and serve nobody
// else. Also `@tollgate/kit/signing`.
export {
  assertSignableNames,
  assertSigningSecret,
  encodePrincipal,
  type ForwardedPrincipal,
  MIN_SECRET_LENGTH,
  PRINCIPAL_HEADER,
  SIGNATURE_HEADER,
  SIGNED_HEADERS_HEADER,
  SignatureError,
  type SignatureErrorCode,
  type SignedHeaders,
  type SignRequestOptions,
  signatureHeader,
  signedHeadersValue,
  signingKey,
  signRequest,
  TIMESTAMP_HEADER,
  type VerifiedRequest,
  type VerifySignedRequestOptions,
  verifyRequestSignature,
  verifySignedRequest,
} from './signature.ts';
