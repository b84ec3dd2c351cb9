import type { IncomingHttpHeaders } from 'node:http';
import type { SubscriptionRequest } from '../subscriptions/index.ts';

interface MediaRange {
  type: string;
  q: number;
  params: Map<string, string>;
}

function mediaRanges(accept: string): MediaRange[] {
  const ranges: MediaRange[] = [];
  for (const range of accept.split(',')) {
    const [type = '', ...rest] = range.split(';').map((s) => s.trim());
    const params = new Map<string, string>();
    for (const param of rest) {
      const eq = param.indexOf('=');
      if (eq === -1) continue;
      params.set(
        param.slice(0, eq).trim().toLowerCase(),
        param
          .slice(eq + 1)
          .trim()
          .replace(/^"(.*)"$/, '$1'),
      );
    }
    const q = params.has('q') ? Number(params.get('q')) : 1;
    ranges.push({ type: type.toLowerCase(), q: Number.isFinite(q) ? q : 0, params });
  }
  return ranges;
}

/**
 * Which subscription transport a GraphQL request over HTTP asks for, from its method and Accept header:
 * `multipart` when a `multipart/mixed` range carries `subscriptionSpec` (Apollo Client's
 * `multipart/mixed;boundary=graphql;subscriptionSpec=1.0`), `sse` when `text/event-stream` is accepted
 * (GraphQL over SSE, EventSource), otherwise undefined: `multipart/mixed` with `deferSpec` or no spec is
 * incremental delivery (@defer), not a subscription transport. Only GET and POST qualify; a range with
 * `q=0` is refused, not accepted.
 */
export function wantsSubscriptionTransport(
  method: string | undefined,
  headers: IncomingHttpHeaders | Readonly<Record<string, string | string[] | undefined>>,
): 'sse' | 'multipart' | undefined {
  const m = (method ?? 'GET').toUpperCase();
  if (m !== 'GET' && m !== 'POST') return undefined;
  const raw = headers.accept;
  const accept = Array.isArray(raw) ? raw.join(',') : raw;
  // most requests accept only JSON: skip the parse
  if (!accept || !/multipart|event-stream/i.test(accept)) return undefined;
  const ranges = mediaRanges(accept).filter((r) => r.q > 0);
  if (ranges.some((r) => r.type === 'multipart/mixed' && r.params.has('subscriptionspec')))
    return 'multipart';
  if (ranges.some((r) => r.type === 'text/event-stream')) return 'sse';
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function jsonParam(search: URLSearchParams, name: string): Record<string, unknown> | null | undefined {
  const text = search.get(name);
  if (text === null || text === '') return undefined;
  const parsed: unknown = JSON.parse(text);
  if (parsed === null) return null;
  if (!isRecord(parsed)) throw new Error(`"${name}" must be a JSON object`);
  return parsed;
}

/**
 * The operation of a subscription request over HTTP: from the query string for GET (`query`,
 * `operationName`, `variables` and `extensions` as JSON), from the parsed JSON body for POST. A shape
 * that is not a request is an `error` (answer it 400); fields are not validated beyond their types
 * (the start function answers a missing query).
 */
export function parseSubscriptionRequest(
  method: string,
  search: string,
  body: unknown,
): { request: SubscriptionRequest } | { error: string } {
  try {
    if (method.toUpperCase() === 'GET') {
      const params = new URLSearchParams(search.startsWith('?') ? search.slice(1) : search);
      return {
        request: {
          query: params.get('query') ?? undefined,
          operationName: params.get('operationName') ?? undefined,
          variables: jsonParam(params, 'variables'),
          extensions: jsonParam(params, 'extensions'),
        },
      };
    }
    if (!isRecord(body)) return { error: 'The body must be a JSON object with a "query" string' };
    const { query, operationName, variables, extensions } = body;
    if (query !== undefined && typeof query !== 'string') return { error: '"query" must be a string' };
    if (operationName !== undefined && operationName !== null && typeof operationName !== 'string')
      return { error: '"operationName" must be a string' };
    if (variables !== undefined && variables !== null && !isRecord(variables))
      return { error: '"variables" must be a JSON object' };
    if (extensions !== undefined && extensions !== null && !isRecord(extensions))
      return { error: '"extensions" must be a JSON object' };
    return { request: { query, operationName, variables, extensions } };
  } catch (error) {
    return { error: `Malformed request: ${(error as Error).message}` };
  }
}
