import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { FormattedSubsequentPayload } from './merge.ts';
import type { SubsequentPayload } from './types.ts';

/**
 * The multipart/mixed framing of incremental delivery as Apollo Server, Apollo Router and Apollo Client
 * speak it (graphql-over-http's incremental delivery RFC, defer spec of 2022-08-24): boundary `-`, so each
 * delimiter is `\r\n---`; every part has one header, `content-type: application/json; charset=utf-8`, a
 * blank line and one JSON payload; the delimiter after the last part is the closing one, `\r\n-----`.
 *
 *     \r\n---\r\n
 *     content-type: application/json; charset=utf-8\r\n\r\n
 *     {"data":{...},"hasNext":true}\r\n---\r\n
 *     content-type: application/json; charset=utf-8\r\n\r\n
 *     {"incremental":[{"data":{...},"path":[...]}],"hasNext":false}\r\n-----\r\n
 */
export const MULTIPART_CONTENT_TYPE = 'multipart/mixed; boundary="-"; deferSpec=20220824';
const PART_HEADERS = 'content-type: application/json; charset=utf-8\r\n\r\n';

/** One part: the opening delimiter before the first, and after it the next delimiter or the closing one. */
export function encodePart(payload: unknown, position: { first: boolean; last: boolean }): string {
  return `${position.first ? '\r\n---\r\n' : ''}${PART_HEADERS}${JSON.stringify(payload)}\r\n---${position.last ? '--' : ''}\r\n`;
}

/**
 * Whether an Accept header asks for incremental delivery in this format: a `multipart/mixed` range with
 * q > 0 whose `deferSpec` is absent or `20220824` (Apollo Client sends
 * `multipart/mixed;deferSpec=20220824,application/json`). Wildcards (`*\/*`, `multipart/*`) do not count:
 * a generic client gets the whole result as JSON. `incrementalSpec=v0.2` (a later, different format) does
 * not count either.
 */
export function acceptsMultipart(accept: string | undefined): boolean {
  // most requests accept only JSON: skip the parse
  if (!accept || !/multipart/i.test(accept)) return false;
  for (const range of accept.split(',')) {
    const [type, ...params] = range.split(';').map((s) => s.trim());
    if (type?.toLowerCase() !== 'multipart/mixed') continue;
    let q = 1;
    let deferSpec: string | undefined;
    let otherSpec = false;
    for (const param of params) {
      const eq = param.indexOf('=');
      if (eq === -1) continue;
      const name = param.slice(0, eq).trim().toLowerCase();
      const value = param
        .slice(eq + 1)
        .trim()
        .replace(/^"(.*)"$/, '$1');
      if (name === 'q') q = Number(value);
      else if (name === 'deferspec') deferSpec = value;
      else if (name === 'incrementalspec') otherSpec = true;
    }
    if (!(q > 0)) continue;
    if (deferSpec === undefined ? !otherSpec : deferSpec === '20220824') return true;
  }
  return false;
}

/** Apollo Server's `formatError` signature. */
export type FormatError = (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;

export interface FormatOptions {
  formatError?: FormatError;
  /** Adds `extensions.stacktrace` before formatError, as Apollo's includeStacktraceInErrorResponses. */
  includeStacktrace?: boolean;
}

/**
 * Errors formatted the way Apollo Server formats those of the initial result: a GraphQLError (anything
 * else wrapped in one), `extensions.code` defaulting to INTERNAL_SERVER_ERROR, `extensions.http` dropped,
 * then formatError; a formatError that throws yields a masked internal error.
 */
export function formatErrors(errors: readonly unknown[], options: FormatOptions): GraphQLFormattedError[] {
  return errors.map((raw) => {
    const error =
      raw instanceof GraphQLError
        ? raw
        : new GraphQLError(raw instanceof Error ? raw.message : `Unexpected error value: ${String(raw)}`, {
            originalError: raw instanceof Error ? raw : undefined,
          });
    const { http: _http, ...rest } = error.extensions as Record<string, unknown>;
    const extensions: Record<string, unknown> = { ...rest, code: rest.code ?? 'INTERNAL_SERVER_ERROR' };
    if (options.includeStacktrace) extensions.stacktrace = error.stack?.split('\n');
    const enriched: GraphQLFormattedError = { ...error.toJSON(), extensions };
    try {
      return options.formatError ? options.formatError(enriched, raw) : enriched;
    } catch {
      return { message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
    }
  });
}

/** A payload from the executor as it goes to the client: errors formatted, fields in the spec's order. */
export function formatPayload(
  payload: SubsequentPayload,
  options: FormatOptions,
): FormattedSubsequentPayload {
  const extensions = (payload as { extensions?: Record<string, unknown> }).extensions;
  return {
    ...(payload.incremental
      ? {
          incremental: payload.incremental.map((item) => ({
            data: item.data,
            path: item.path,
            ...(item.label !== undefined ? { label: item.label } : {}),
            ...(item.errors?.length ? { errors: formatErrors(item.errors, options) } : {}),
          })),
        }
      : {}),
    hasNext: payload.hasNext,
    ...(extensions ? { extensions } : {}),
  };
}
