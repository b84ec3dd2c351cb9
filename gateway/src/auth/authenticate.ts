import type { ApiKeyManager } from './api-key.ts';
import { AuthError } from './auth-error.ts';
import type { JwtVerifier } from './jwt.ts';
import { anonymousPrincipal, type Principal } from './principal.ts';

/** Anything with a case-insensitive `get`, such as Fetch `Headers` or Apollo's `HeaderMap`. */
export interface HeaderSource {
  get(name: string): string | null | undefined;
}

export interface AuthenticatorOptions {
  /** Verifies `Authorization: Bearer` tokens (and the cookie). Without it, bearer tokens are refused. */
  jwt?: Pick<JwtVerifier, 'verify'>;
  /** Verifies `x-api-key`. Without it, API keys are refused. */
  apiKeys?: Pick<ApiKeyManager, 'verifyApiKey'>;
  /** Whether a request without credentials gets the anonymous principal on `plan`, or 401 `missing`. */
  anonymous: { enabled: boolean; plan: string };
  /**
   * Cookie carrying the JWT for browser clients, read when there is no Authorization header.
   * @default undefined (no cookie)
   */
  cookieName?: string;
}

export type Authenticate = (headers: HeaderSource) => Promise<Principal>;

const BEARER = /^Bearer +([^\s,]+) *$/i;

/**
 * Creates the function that turns request headers into a Principal: `Authorization: Bearer <jwt>` (or
 * the cookie), else `x-api-key`, else anonymous when enabled. A credential that is present but fails is
 * always an error: it never falls back to a weaker credential or to anonymous. Leave that intact.
 */
export function createAuthenticator(options: AuthenticatorOptions): Authenticate {
  const { jwt, apiKeys, cookieName } = options;
  const anonymous = options.anonymous.enabled ? anonymousPrincipal(options.anonymous.plan) : undefined;

  return async (headers) => {
    const authorization = headers.get('authorization');
    if (authorization !== null && authorization !== undefined) {
      const token = BEARER.exec(authorization)?.[1];
      if (token === undefined) throw new AuthError('malformed', 'malformed Authorization header');
      return verifyJwt(token);
    }
    const cookieToken = cookieName === undefined ? undefined : readCookie(headers.get('cookie'), cookieName);
    if (cookieToken) return verifyJwt(cookieToken);

    const apiKey = headers.get('x-api-key');
    if (apiKey !== null && apiKey !== undefined) {
      if (apiKey.trim() === '') throw new AuthError('malformed', 'malformed API key');
      if (!apiKeys) throw new AuthError('unknown_api_key', 'API keys are not accepted');
      return apiKeys.verifyApiKey(apiKey.trim());
    }

    if (anonymous) return anonymous;
    throw new AuthError('missing', 'credentials missing');
  };

  function verifyJwt(token: string): Promise<Principal> {
    if (!jwt) return Promise.reject(new AuthError('malformed', 'bearer tokens are not accepted'));
    return jwt.verify(token);
  }
}

/**
 * Whether a request presents a credential (Authorization, the JWT cookie, x-api-key): what the
 * failed-authentication throttle refuses; a request without one is anonymous and never throttled.
 */
export function presentsCredential(headers: HeaderSource, cookieName: string | undefined): boolean {
  const present = (v: string | null | undefined) => v !== null && v !== undefined;
  if (present(headers.get('authorization')) || present(headers.get('x-api-key'))) return true;
  return cookieName !== undefined && readCookie(headers.get('cookie'), cookieName) !== undefined;
}

// First cookie of that name (RFC 6265 §5.4 order); an empty value counts as absent, as a cleared
// cookie often lingers that way.
function readCookie(header: string | null | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq === -1 || pair.slice(0, eq).trim() !== name) continue;
    const value = pair.slice(eq + 1).trim();
    const unquoted =
      value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
    return unquoted || undefined;
  }
  return undefined;
}
