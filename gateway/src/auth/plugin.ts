import type { GatewayConfig } from '../config/index.ts';
import { RateLimitedError, UnauthenticatedError } from '../errors/index.ts';
import { withSpan } from '../telemetry/index.ts';
import { type ApiKeyManager, createApiKeyManager } from './api-key.ts';
import { createFileApiKeyStore } from './api-key-file-store.ts';
import { createRedisApiKeyStore } from './api-key-redis-store.ts';
import { AuthError, type AuthErrorReason } from './auth-error.ts';
import {
  type Authenticate,
  createAuthenticator,
  type HeaderSource,
  presentsCredential,
} from './authenticate.ts';
import { createFailureLog } from './failure-log.ts';
import { createFailureThrottle } from './failure-throttle.ts';
import { createJwtVerifier, type JwtVerifier } from './jwt.ts';
import type { Principal } from './principal.ts';

export interface Authentication {
  /**
   * The caller's principal, or an UnauthenticatedError (401) naming what is wrong with the credentials.
   * With the client's address, failed credentials are throttled per address (`auth.failureThrottle`):
   * an address over it gets a RateLimitedError (429, Retry-After) before its credential is looked at.
   */
  authenticate(headers: HeaderSource, clientAddress?: string): Promise<Principal>;
  /** Refusals counted since start, for /metrics. */
  stats(): AuthenticationStats;
  close(): Promise<void>;
}

export interface AuthenticationStats {
  /** Credentials refused (401), by reason. */
  failures: Readonly<Partial<Record<AuthErrorReason, number>>>;
  /** Requests refused with 429 by the failed-authentication throttle. */
  throttled: number;
  /** Addresses the throttle remembers now. */
  throttledAddresses: number;
}

// Failures that are the caller's doing: a missing credential is not a guess, and an unreachable JWKS is
// the gateway's own trouble; neither takes from the caller's bucket.
const THROTTLED_REASONS: ReadonlySet<AuthErrorReason> = new Set<AuthErrorReason>([
  'malformed',
  'expired',
  'not_yet_valid',
  'bad_signature',
  'alg_not_allowed',
  'wrong_issuer',
  'wrong_audience',
  'unknown_key',
  'wrong_type',
  'unknown_api_key',
  'revoked_api_key',
]);

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
  const throttle = createFailureThrottle(config.failureThrottle);
  const failureLog = deps.log && createFailureLog(deps.log, config.failureLog);
  const failures: Partial<Record<AuthErrorReason, number>> = {};
  let throttled = 0;
  return {
    async authenticate(headers, clientAddress) {
      // before any key lookup or signature check: a stuffing client learns nothing while throttled
      if (clientAddress !== undefined && presentsCredential(headers, config.cookieName)) {
        const retryAfter = throttle.retryAfter(clientAddress);
        if (retryAfter > 0) {
          throttled++;
          failureLog?.refused({ reason: 'throttled', client: clientAddress });
          throw new RateLimitedError(
            `Too many failed authentications from this address; retry in ${retryAfter} s`,
            {
              headers: { 'retry-after': String(retryAfter) },
              extensions: { reason: 'auth_failures', retryAfterSeconds: retryAfter },
            },
          );
        }
      }
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
          failures[error.reason] = (failures[error.reason] ?? 0) + 1;
          if (clientAddress !== undefined && THROTTLED_REASONS.has(error.reason))
            throttle.failed(clientAddress);
          failureLog?.refused({ reason: error.reason, ...(clientAddress ? { client: clientAddress } : {}) });
          throw new UnauthenticatedError(error.message, { extensions: { reason: error.reason } });
        }
        throw error;
      }
    },
    stats: () => ({ failures: { ...failures }, throttled, throttledAddresses: throttle.size }),
    async close() {
      failureLog?.flush();
      await Promise.allSettled([jwt?.close(), apiKeys?.close()]);
    },
  };
}
