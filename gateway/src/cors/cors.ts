/**
 * CORS as the Fetch standard (https://fetch.spec.whatwg.org/#http-cors-protocol) asks of a server: the
 * answer to a preflight, the headers of an actual response, and whether a WebSocket upgrade's Origin may
 * open a connection. Pure: strings in, headers out; the node:http adapter is cors-handler.ts.
 */

export interface CorsOptions {
  /**
   * Origins whose pages may read responses: exact (`https://app.example.com`), a subdomain pattern
   * (`https://*.example.com`) or `*` (any origin; not with credentials). @default [] (no cross-origin access)
   */
  origins: readonly string[];
  /** Answer `Access-Control-Allow-Credentials: true` (cookies, HTTP auth). @default false */
  credentials: boolean;
  /** Request headers a cross-origin page may send; `*` allows whatever the preflight asks for. */
  allowedHeaders: readonly string[];
  /** Response headers a cross-origin page may read beyond the CORS-safelisted ones. */
  exposedHeaders: readonly string[];
  /** How long a browser may cache a preflight answer (seconds). @default 600 */
  maxAgeSeconds: number;
}

/** A request as CORS sees it: its method and the headers that matter (absent = not sent). */
export interface CorsRequest {
  method: string;
  origin?: string | undefined;
  /** Access-Control-Request-Method */
  requestMethod?: string | undefined;
  /** Access-Control-Request-Headers */
  requestHeaders?: string | undefined;
}

export type CorsDecision =
  /** A preflight: answer it with `status` and `headers`, never passing it on; 403 when refused. */
  | {
      kind: 'preflight';
      allowed: boolean;
      status: 204 | 403;
      headers: Record<string, string>;
      reason?: string;
    }
  /** OPTIONS that is not a preflight: answer it (RFC 9110 §9.3.7) with the methods served. */
  | { kind: 'options'; status: 204; headers: Record<string, string> }
  /** Any other request: add `headers` to whatever the gateway answers (none when the origin is refused). */
  | { kind: 'actual'; allowed: boolean; headers: Record<string, string> };

/** A bad CORS option, naming its key (the config schema checks the same before this runs). */
export class CorsConfigError extends Error {
  readonly code = 'CORS_CONFIG_INVALID';
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(`${key}: ${message}`);
    this.name = 'CorsConfigError';
  }
}

/** The methods the gateway serves on its GraphQL paths (GET queries, POST anything). */
export const CORS_METHODS = 'GET, POST';
const ALLOW = 'GET, POST, OPTIONS';

/** One `origins` entry, compiled. */
export interface OriginPattern {
  scheme: string;
  /** exact host, or the suffix after `*.` for a subdomain pattern */
  host: string;
  subdomains: boolean;
  port: string;
}

// scheme://host[:port], host a name, an IPv4 address or a bracketed IPv6 one; `*.` before a name for
// subdomains. Any scheme: mobile and desktop shells use capacitor://, tauri://, app:// origins.
const ORIGIN =
  /^([a-z][a-z0-9+.-]*):\/\/(\*\.)?([a-z0-9-]+(?:\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(?::(\d{1,5}))?$/;
const DEFAULT_PORTS: Readonly<Record<string, string>> = { http: '80', https: '443', ws: '80', wss: '443' };
const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;

/** An origin (or pattern) split into its parts, default port dropped; undefined when it is not one. */
function parseOrigin(text: string): OriginPattern | undefined {
  const m = ORIGIN.exec(text.trim().toLowerCase().replace(/\/$/, ''));
  if (!m) return undefined;
  const [, scheme = '', star, host = '', port = ''] = m;
  if (port && Number(port) > 65535) return undefined;
  return { scheme, host, subdomains: Boolean(star), port: port === DEFAULT_PORTS[scheme] ? '' : port };
}

function matches(pattern: OriginPattern, origin: OriginPattern): boolean {
  if (origin.subdomains || pattern.scheme !== origin.scheme || pattern.port !== origin.port) return false;
  return pattern.subdomains ? origin.host.endsWith(`.${pattern.host}`) : pattern.host === origin.host;
}

/** What is wrong with one `origins` entry, or undefined when it is fine (used by the config schema too). */
export function originProblem(entry: string): string | undefined {
  if (entry === '*') return undefined;
  if (entry.trim().toLowerCase() === 'null')
    return '"null" is the origin of sandboxed frames and local files of every site; it cannot be allowed';
  if (!parseOrigin(entry))
    return `expected an origin such as https://app.example.com or https://*.example.com (scheme, host, optional port; no path), got ${JSON.stringify(entry)}`;
  return undefined;
}

/** The options checked and compiled once. */
export interface CorsPolicy {
  readonly any: boolean;
  readonly patterns: readonly OriginPattern[];
  readonly credentials: boolean;
  readonly mirrorHeaders: boolean;
  readonly allowedHeaders: string;
  readonly exposedHeaders: string;
  readonly maxAgeSeconds: number;
}

function headerList(key: string, names: readonly string[]): string[] {
  const out: string[] = [];
  for (const [i, raw] of names.entries()) {
    const name = raw.trim().toLowerCase();
    if (!TOKEN.test(name))
      throw new CorsConfigError(`${key}.${i}`, `not a header name: ${JSON.stringify(raw)}`);
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

/** Checks and compiles the options; throws CorsConfigError naming the key of a bad one. */
export function createCorsPolicy(options: CorsOptions, key = 'server.cors'): CorsPolicy {
  const patterns: OriginPattern[] = [];
  let any = false;
  for (const [i, entry] of options.origins.entries()) {
    const problem = originProblem(entry);
    if (problem) throw new CorsConfigError(`${key}.origins.${i}`, problem);
    if (entry === '*') any = true;
    else patterns.push(parseOrigin(entry)!);
  }
  // Fetch: a credentialed request fails on `Access-Control-Allow-Origin: *`; echoing every origin instead
  // would hand any site the user's cookies, so this is refused rather than worked around.
  if (any && options.credentials)
    throw new CorsConfigError(
      `${key}.credentials`,
      'cannot be true with origins ["*"]: list the origins allowed to send credentials',
    );
  if (!Number.isInteger(options.maxAgeSeconds) || options.maxAgeSeconds < 0)
    throw new CorsConfigError(`${key}.maxAgeSeconds`, 'expected a whole number of seconds, 0 or more');
  const allowed = headerList(`${key}.allowedHeaders`, options.allowedHeaders);
  const exposed = headerList(`${key}.exposedHeaders`, options.exposedHeaders);
  return {
    any,
    patterns,
    credentials: options.credentials,
    mirrorHeaders: allowed.includes('*'),
    allowedHeaders: allowed.filter((h) => h !== '*').join(', '),
    exposedHeaders: exposed.join(', '),
    maxAgeSeconds: options.maxAgeSeconds,
  };
}

/** Whether cross-origin access is on at all (some origin is listed). */
export function corsEnabled(policy: CorsPolicy): boolean {
  return policy.any || policy.patterns.length > 0;
}

/** Whether a page of this origin may read responses (exact serialized origin, as browsers send it). */
export function originAllowed(policy: CorsPolicy, origin: string | undefined): boolean {
  if (origin === undefined) return false;
  if (policy.any) return true;
  const parsed = parseOrigin(origin);
  return parsed !== undefined && policy.patterns.some((p) => matches(p, parsed));
}

/** Requested header names that are well-formed tokens, for a `*` allowedHeaders to echo. */
function requestedHeaders(value: string | undefined): string {
  if (!value) return '';
  return value
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => TOKEN.test(h))
    .join(', ');
}

/** What to answer a request with, by the Fetch standard's CORS protocol. */
export function decideCors(policy: CorsPolicy, request: CorsRequest): CorsDecision {
  const method = request.method.toUpperCase();
  const { origin } = request;
  // Only a wildcard answer is the same for every origin; any other must not be reused by a cache for
  // another origin (Fetch §3.2.5, "CORS protocol and HTTP caches").
  const vary: Record<string, string> = corsEnabled(policy) && !policy.any ? { vary: 'Origin' } : {};
  if (method === 'OPTIONS' && origin !== undefined && request.requestMethod !== undefined) {
    if (!originAllowed(policy, origin)) {
      const reason = corsEnabled(policy)
        ? `origin ${origin} is not in server.cors.origins`
        : 'cross-origin requests are off: server.cors.origins is empty';
      return { kind: 'preflight', allowed: false, status: 403, headers: vary, reason };
    }
    const headers: Record<string, string> = {
      'access-control-allow-origin': policy.any ? '*' : origin,
      'access-control-allow-methods': CORS_METHODS,
      'access-control-max-age': String(policy.maxAgeSeconds),
    };
    if (policy.credentials) headers['access-control-allow-credentials'] = 'true';
    const allowHeaders = policy.mirrorHeaders
      ? [policy.allowedHeaders, requestedHeaders(request.requestHeaders)].filter(Boolean).join(', ')
      : policy.allowedHeaders;
    if (allowHeaders) headers['access-control-allow-headers'] = allowHeaders;
    const varyOn = [vary.vary, policy.mirrorHeaders ? 'Access-Control-Request-Headers' : undefined];
    const v = varyOn.filter(Boolean).join(', ');
    if (v) headers.vary = v;
    return { kind: 'preflight', allowed: true, status: 204, headers };
  }
  if (method === 'OPTIONS') return { kind: 'options', status: 204, headers: { allow: ALLOW, ...vary } };
  if (!originAllowed(policy, origin)) return { kind: 'actual', allowed: false, headers: vary };
  const headers: Record<string, string> = {
    'access-control-allow-origin': policy.any ? '*' : (origin as string),
    ...vary,
  };
  if (policy.credentials) headers['access-control-allow-credentials'] = 'true';
  if (policy.exposedHeaders) headers['access-control-expose-headers'] = policy.exposedHeaders;
  return { kind: 'actual', allowed: true, headers };
}

/**
 * Whether a WebSocket upgrade may proceed. Browsers send Origin on every upgrade and WebSocket has no
 * CORS, so a page of any site could otherwise open one (with the network position of its visitor): an
 * upgrade from another origin than the gateway's own (`host`) must be allowed by `origins` as a fetch
 * would be. No Origin header: not a browser, nothing to check.
 */
export function upgradeAllowed(
  policy: CorsPolicy,
  origin: string | undefined,
  host: string | undefined,
): boolean {
  if (origin === undefined) return true;
  if (originAllowed(policy, origin)) return true;
  const from = parseOrigin(origin);
  if (!from || from.subdomains || !host) return false;
  // Host is host[:port]; the origin's port is dropped when it is its scheme's default, so drop it there too.
  const m = /^(\[[0-9a-f:.]+\]|[^:]+)(?::(\d+))?$/i.exec(host.trim());
  if (!m) return false;
  const port = m[2] ?? '';
  const same = m[1]!.toLowerCase() === from.host;
  return same && (port === from.port || (from.port === '' && port === DEFAULT_PORTS[from.scheme]));
}
