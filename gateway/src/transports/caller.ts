import type { IncomingHttpHeaders } from 'node:http';

/** Request headers as one string per name (names are lower-case in node:http already). */
export function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** The credential headers a `connection_init` payload may carry, and override the upgrade request's with. */
const CREDENTIALS = ['authorization', 'x-api-key'] as const;

function pick(params: Record<string, unknown>, name: string): string | undefined {
  for (const [key, value] of Object.entries(params)) {
    if (key.toLowerCase() === name && typeof value === 'string' && value.length > 0) return value;
  }
  return undefined;
}

/**
 * A WebSocket caller's headers: the upgrade request's, with `authorization` and `x-api-key` from the
 * `connection_init` payload replacing them when present. Browsers cannot set headers on a WebSocket, so
 * clients put credentials in the payload: at its top level (`{ "authorization": "Bearer …" }`, any
 * casing, as GraphiQL sends its header editor's content) or under `headers` (Apollo-style
 * `connectionParams: { headers: { Authorization } }`); the top level wins. Non-string values are ignored.
 */
export function callerHeaders(
  upgrade: IncomingHttpHeaders,
  connectionParams: Readonly<Record<string, unknown>> | undefined,
): Record<string, string> {
  const headers = flattenHeaders(upgrade);
  if (!connectionParams) return headers;
  const nested = connectionParams.headers;
  const sources: Record<string, unknown>[] = [connectionParams];
  if (typeof nested === 'object' && nested !== null && !Array.isArray(nested))
    sources.push(nested as Record<string, unknown>);
  for (const name of CREDENTIALS) {
    for (const source of sources) {
      const value = pick(source, name);
      if (value !== undefined) {
        headers[name] = value;
        break;
      }
    }
  }
  return headers;
}
