// Gateway → subgraph trust, both ends of it: the gateway signs each fetch (principal, timestamp, body
// hash) with a shared secret; subgraphs verify it and serve nobody else. Also `@tollgate/kit/signing`.
export {
  assertSigningSecret,
  encodePrincipal,
  type ForwardedPrincipal,
  MIN_SECRET_LENGTH,
  PRINCIPAL_HEADER,
  SIGNATURE_HEADER,
  SignatureError,
  type SignatureErrorCode,
  type SignedHeaders,
  type SignRequestOptions,
  signatureHeader,
  signingKey,
  signRequest,
  TIMESTAMP_HEADER,
  type VerifySignedRequestOptions,
  verifySignedRequest,
} from './signature.ts';
