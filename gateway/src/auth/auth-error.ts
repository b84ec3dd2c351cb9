/**
 * Why a credential was refused. The set is closed and stable: logs, metrics and tests match on the
 * reason, never on the message.
 */
export type AuthErrorReason =
  | 'missing'
  | 'malformed'
  | 'expired'
  | 'not_yet_valid'
  | 'bad_signature'
  | 'alg_not_allowed'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'unknown_key'
  | 'jwks_unavailable'
  | 'wrong_type'
  | 'unknown_api_key'
  | 'revoked_api_key';

const defaultMessages: Readonly<Record<AuthErrorReason, string>> = {
  missing: 'credentials missing',
  malformed: 'malformed credentials',
  expired: 'token expired',
  not_yet_valid: 'token not yet valid',
  bad_signature: 'bad token signature',
  alg_not_allowed: 'token algorithm not allowed',
  wrong_issuer: 'wrong issuer',
  wrong_audience: 'wrong audience',
  unknown_key: 'unknown signing key',
  jwks_unavailable: 'signing keys unavailable',
  wrong_type: 'wrong token type',
  unknown_api_key: 'unknown API key',
  revoked_api_key: 'API key revoked',
};

/**
 * A refused credential. A plain Error (not a GraphQLError) so the core stays free of Apollo types; the
 * plugin maps it to the client code `UNAUTHENTICATED` (401).
 *
 * Messages are fixed strings chosen by this folder: they never contain the token, the API key or key
 * material, so they are safe to log and to send to clients. Leave that rule intact. A `cause` is only
 * attached for `jwks_unavailable` (a network error), never for a token error: jose's token errors
 * carry the decoded payload.
 */
export class AuthError extends Error {
  readonly code = 'UNAUTHENTICATED' as const;
  readonly reason: AuthErrorReason;

  constructor(
    reason: AuthErrorReason,
    message: string = defaultMessages[reason],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AuthError';
    this.reason = reason;
  }
}
