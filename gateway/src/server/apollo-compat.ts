import { HeaderMap } from '@apollo/server';
import { GraphQLError, type GraphQLFormattedError, Kind } from 'graphql';

// Apollo Server's rules for errors, statuses and response bodies (its requestPipeline.js,
// errorNormalize.js and runHttpQuery.js, 5.x), as direct execution applies them: one place to compare
// against the next Apollo Server release.

export interface ErrorFormatting {
  formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  includeStacktraceInErrorResponses: boolean;
}

/** A variable-coercion error, which Apollo Server reports as BAD_USER_INPUT (and a 400 without data). */
function isBadUserInput(error: GraphQLError): boolean {
  const node = error.nodes?.length === 1 ? error.nodes[0] : undefined;
  if (node?.kind !== Kind.VARIABLE_DEFINITION) return false;
  const name = `Variable "$${node.variable.name.value}" `;
  return ['has invalid value', 'got invalid value ', 'of required type ', 'of non-null type '].some((rest) =>
    error.message.startsWith(name + rest),
  );
}

/** What Apollo Server takes for a JSON object in a request body (`variables`, `extensions`). */
export const isStringRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);

export function ensureGraphQLError(raw: unknown): GraphQLError {
  const error = raw instanceof Error ? raw : new GraphQLError(`Unexpected error value: ${String(raw)}`);
  return error instanceof GraphQLError ? error : new GraphQLError(error.message, { originalError: error });
}

export interface Head {
  status?: number | undefined;
  headers: HeaderMap;
}

export function mergeHead(target: Head, source: Partial<Head>): void {
  if (source.status) target.status = source.status;
  if (source.headers) for (const [name, value] of source.headers) target.headers.set(name, value);
}

/** Apollo Server's error normalisation: code defaulted, `extensions.http` taken into the response head. */
export function formatErrors(
  errors: readonly unknown[],
  options: ErrorFormatting,
): { formatted: GraphQLFormattedError[]; head: Head } {
  const head: Head = { status: undefined, headers: new HeaderMap() };
  const enrich = (raw: unknown): GraphQLFormattedError => {
    const error = ensureGraphQLError(raw);
    const extensions: Record<string, unknown> = {
      ...error.extensions,
      code: error.extensions.code ?? 'INTERNAL_SERVER_ERROR',
    };
    const http = extensions.http as Partial<Head> | undefined;
    if (
      typeof http === 'object' &&
      http !== null &&
      (!('status' in http) || typeof http.status === 'number') &&
      (!('headers' in http) || http.headers instanceof Map)
    ) {
      mergeHead(head, http);
      delete extensions.http;
    }
    if (options.includeStacktraceInErrorResponses) extensions.stacktrace = error.stack?.split('\n');
    return { ...error.toJSON(), extensions };
  };
  const formatted = errors.map((error) => {
    try {
      return options.formatError(enrich(error), error);
    } catch (formatting) {
      if (options.includeStacktraceInErrorResponses) return enrich(formatting);
      return { message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
    }
  });
  return { formatted, head };
}

/** Apollo Server's response body: errors, data, extensions, in that order, and a newline. */
export function stringify(result: { errors?: unknown; data?: unknown; extensions?: unknown }): string {
  return `${JSON.stringify({ errors: result.errors, data: result.data, extensions: result.extensions })}\n`;
}

/** A HeaderMap as the Fetch-style headers a gateway executor sees (as Apollo Server hands it one). */
export class FetcherHeaders {
  constructor(private readonly map: HeaderMap) {}
  append(name: string, value: string): void {
    const existing = this.map.get(name);
    this.map.set(name, existing === undefined ? value : `${existing}, ${value}`);
  }
  delete(name: string): void {
    this.map.delete(name);
  }
  get(name: string): string | null {
    return this.map.get(name) ?? null;
  }
  has(name: string): boolean {
    return this.map.has(name);
  }
  set(name: string, value: string): void {
    this.map.set(name, value);
  }
  entries(): IterableIterator<[string, string]> {
    return this.map.entries();
  }
  keys(): IterableIterator<string> {
    return this.map.keys();
  }
  values(): IterableIterator<string> {
    return this.map.values();
  }
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.map.entries();
  }
}

/** A cache policy nobody restricts (the gateway's responses carry no cache hints; cache control is off). */
export function uncachedPolicy() {
  return {
    maxAge: undefined as number | undefined,
    scope: undefined as 'PUBLIC' | 'PRIVATE' | undefined,
    restrict() {},
    replace() {},
    policyIfCacheable: () => null,
  };
}

/** The executor's errors as Apollo Server reports them: a variable-coercion error without a code is BAD_USER_INPUT. */
export function asUserInputErrors(errors: readonly GraphQLError[]): GraphQLError[] {
  return errors.map((e) =>
    isBadUserInput(e) && e.extensions?.code == null
      ? new GraphQLError(e.message, {
          nodes: e.nodes,
          originalError: e.originalError ?? e,
          extensions: { ...e.extensions, code: 'BAD_USER_INPUT' },
        })
      : e,
  );
}
