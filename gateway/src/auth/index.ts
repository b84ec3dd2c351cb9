// Authentication core: turns request headers (JWT from a JWKS, or an API key) into a Principal.
// Pure: no Apollo types; the gateway plugin wraps it and maps AuthError to UNAUTHENTICATED (401).
export {
  type ApiKeyManager,
  type ApiKeyManagerOptions,
  type ApiKeyRecord,
  type ApiKeyStore,
  type CreateApiKeyInput,
  createApiKeyManager,
} from './api-key.ts';
export { createFileApiKeyStore, type FileApiKeyStoreOptions } from './api-key-file-store.ts';
export { createRedisApiKeyStore, type RedisApiKeyStoreOptions } from './api-key-redis-store.ts';
export { AuthError, type AuthErrorReason } from './auth-error.ts';
export {
  type Authenticate,
  type AuthenticatorOptions,
  createAuthenticator,
  type HeaderSource,
} from './authenticate.ts';
export { type AccessRule, type AccessRules, buildAccessRules } from './authorize.ts';
export { type Authorization, type AuthorizationContext, createAuthorization } from './authz-plugin.ts';
export {
  type DevSigningKey,
  type DevTokenClaims,
  type DevTokenOptions,
  loadDevSigningKey,
  signDevToken,
} from './dev-keys.ts';
export { createJwtVerifier, type JsonWebKeySet, type JwtVerifier, type JwtVerifierOptions } from './jwt.ts';
export {
  type Authentication,
  type AuthenticationDeps,
  type AuthenticationStats,
  createAuthentication,
} from './plugin.ts';
export { anonymousPrincipal, type Principal } from './principal.ts';
export { createRequestSigner, type RequestSigner, type RequestSignerOptions } from './signing.ts';
