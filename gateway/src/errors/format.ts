import type { GraphQLFormattedError } from 'graphql';
import { ErrorCode, isErrorCode } from './codes.ts';

// Apollo Server's NoIntrospection rule names its own constructor option; users configure Tollgate.
const APOLLO_NO_INTROSPECTION = /^GraphQL introspection is not allowed by Apollo Server\b/;
/** What a client (GraphiQL first) reads when introspection is off: the key that turns it on. */
export const INTROSPECTION_DISABLED_MESSAGE =
  'GraphQL introspection is not allowed by this gateway, but the query contained __schema or __type. To enable introspection, set `server.introspection: true` in the gateway config (or GATEWAY_SERVER_INTROSPECTION=true).';

export interface FormatErrorOptions {
  /** Show stack traces and internal messages (NODE_ENV=development). @default false */
  development?: boolean;
  /**
   * Drop "Did you mean …?" hints from every message (validation ones are already dropped by Apollo's
   * hideSchemaDetailsFromClientErrors; this catches the rest, e.g. enum values in variable errors).
   * @default false
   */
  hideSuggestions?: boolean;
  /** Where masked errors are reported, with the original error. */
  log?: (message: string, error: unknown) => void;
}

/**
 * Apollo Server `formatError`: lets through errors that carry a code from our catalog, or any code a
 * subgraph set on its own error (marked by `serviceName`); everything else becomes
 * INTERNAL_SERVER_ERROR / "Unexpected error." and is logged. Never throws.
 */
export function createFormatError(options: FormatErrorOptions = {}) {
  return function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
    try {
      let extensions = formatted.extensions ?? {};
      // Over a structural limit: Apollo files these under parse or validation failures; clients get
      // BAD_REQUEST with the limit named in extensions.limit, the parser's token cap included.
      if (typeof extensions.limit === 'string' && extensions.code !== ErrorCode.SUBSCRIPTION_LIMIT)
        extensions = { ...extensions, code: ErrorCode.BAD_REQUEST };
      else if (/^Syntax Error: Document contains more tha[nt] \d+ tokens/.test(formatted.message)) {
        extensions = { ...extensions, code: ErrorCode.BAD_REQUEST, limit: 'tokens' };
      }
      // Apollo raises a few client errors with an HTTP status but no code (an APQ hash that does not
      // match its query, an unsupported persisted query version): they are the client's, not ours.
      else if (extensions.code === ErrorCode.INTERNAL_SERVER_ERROR && isUncodedClientError(error)) {
        extensions = { ...extensions, code: ErrorCode.BAD_REQUEST };
      }
      formatted = { ...formatted, extensions };
      if (APOLLO_NO_INTROSPECTION.test(formatted.message))
        formatted = { ...formatted, message: INTROSPECTION_DISABLED_MESSAGE };
      if (options.hideSuggestions && formatted.message.includes('Did you mean'))
        formatted = { ...formatted, message: formatted.message.replace(/ ?Did you mean .+?\?$/s, '') };
      const code = extensions.code;
      const fromSubgraph = typeof extensions.serviceName === 'string';
      const passes =
        code !== ErrorCode.INTERNAL_SERVER_ERROR &&
        (isErrorCode(code) || (fromSubgraph && typeof code === 'string'));
      if (passes || options.development) {
        if (options.development) return formatted;
        const { stacktrace: _stack, ...rest } = extensions;
        return { ...formatted, extensions: rest };
      }
      options.log?.('masked unexpected error', error);
      return {
        message: 'Unexpected error.',
        ...(formatted.path ? { path: formatted.path } : {}),
        ...(formatted.locations ? { locations: formatted.locations } : {}),
        extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
      };
    } catch {
      return { message: 'Unexpected error.', extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } };
    }
  };
}

function isUncodedClientError(error: unknown): boolean {
  const extensions = (error as { extensions?: { code?: unknown; http?: { status?: unknown } } } | null)
    ?.extensions;
  const status = extensions?.http?.status;
  return extensions?.code === undefined && typeof status === 'number' && status >= 400 && status < 500;
}
