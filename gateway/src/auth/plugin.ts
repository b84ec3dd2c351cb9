import type { GatewayConfig } from '../config/index.ts';
import { UnauthenticatedError } from '../errors/index.ts';
import { withSpan } from '../telemetry/index.ts';
import { type ApiKeyManager, createApiKeyManager } from './api-key.ts';
import { createFileApiKeyStore } from './api-key-file-store.ts';
import { createRedisApiKeyStore } from './api-key-redis-store.ts';
import { AuthError } from './auth-error.ts';
import { type Authenticate, createAuthenticator, type HeaderSource } from './authenticate.ts';
import { createJwtVerifier, type JwtVerifier } from './jwt.ts';
import type { Principal } from './principal.ts';

export interface Authentication {
  /** The caller's principal, or an UnauthenticatedError (401) naming what is wrong with the credentials. */
  authenticate(headers: HeaderSource): Promise<Principal>;
  close(): Promise<void>;
}

export interface AuthenticationDeps {
  redisUrl?: string | undefined;
  log?: (message: string, fields: Record<string, unknown>) => void;
}

/**
 * Builds the gateway's authentication step from its config slice. It runs in Apollo Server's context
 * function, before parsing, planning, cost accounting or any subgraph call: a refused request costs nothing.
 */
export async function createAuthentication(
  config: GatewayConfig['auth'],
  deps: AuthenticationDeps = {},
): Promise<Authentication> {
  let jwt: JwtVerifier | undefined;
  if (config.jwt) {
    const j = config.jwt;
    jwt = createJwtVerifier({
      jwksUrl: j.jwksUrl,
      jwksFile: j.jwksFile,
      hs256Secret: j.hs256Secret,
      issuer: j.issuer,
      audience: j.audience,
      algorithms: j.algorithms,
      clockToleranceSec: j.clockToleranceSec,
      typ: j.typ,
      scopeClaim: j.scopeClaim,
      planClaim: j.planClaim,
      defaultPlan: j.defaultPlan,
    });
  }
  let apiKeys: ApiKeyManager | undefined;
  if (config.apiKeys) {
    if (config.apiKeys.redis) {
      if (!deps.redisUrl) throw new Error('auth.apiKeys.redis needs REDIS_URL');
      apiKeys = createApiKeyManager({ store: createRedisApiKeyStore({ redis: deps.redisUrl }) });
    } else if (config.apiKeys.file) {
      apiKeys = createApiKeyManager({ store: await createFileApiKeyStore({ path: config.apiKeys.file }) });
    }
  }
  const authenticator: Authenticate = createAuthenticator({
    jwt,
    apiKeys,
    anonymous: config.anonymous,
    cookieName: config.cookieName,
  });
  return {
    async authenticate(headers) {
      try {
        const principal = await withSpan('gateway.auth', async (span) => {
          const p = await authenticator(headers);
          span?.setAttributes({
            'enduser.id': p.id,
            'tollgate.principal.kind': p.kind,
            'tollgate.principal.plan': p.plan,
          });
          return p;
        });
        return principal;
      } catch (error) {
        if (error instanceof AuthError) {
          deps.log?.('authentication refused', { reason: error.reason });
          throw new UnauthenticatedError(error.message, { extensions: { reason: error.reason } });
        }
        throw error;
      }
    },
    async close() {
      await Promise.allSettled([jwt?.close(), apiKeys?.close()]);
    },
  };
}
