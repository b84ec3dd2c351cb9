// Gateway → subgraph trust: the gateway signs each fetch (principal, timestamp, body hash) with a
// shared secret; subgraphs verify it and serve nobody else.
export {
  type ForwardedPrincipal,
  SignatureError,
  type SignatureErrorCode,
  type SignedHeaders,
  type SignRequestOptions,
  signRequest,
  type VerifySignedRequestOptions,
  verifySignedRequest,
} from './signature.ts';
