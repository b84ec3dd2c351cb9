import { describe, expect, it } from 'vitest';
import {
  CorsConfigError,
  type CorsOptions,
  type CorsRequest,
  createCorsPolicy,
  decideCors,
  upgradeAllowed,
} from './cors.ts';

const APP = 'https://app.example.com';
const base: CorsOptions = {
  origins: [APP, 'https://*.preview.example.com', 'http://127.0.0.1:5173'],
  credentials: true,
  allowedHeaders: ['content-type', 'authorization'],
  exposedHeaders: ['traceparent', 'retry-after'],
  maxAgeSeconds: 600,
};
const preflight = (origin: string | undefined, extra: Partial<CorsRequest> = {}): CorsRequest => ({
  method: 'OPTIONS',
  origin,
  requestMethod: 'POST',
  requestHeaders: 'content-type',
  ...extra,
});

describe('decideCors', () => {
  it.each<{
    name: string;
    options?: Partial<CorsOptions>;
    request: CorsRequest;
    expected: Record<string, unknown>;
    /** expected.headers names only some of the headers */
    partial?: true;
  }>([
    {
      name: 'preflight from a listed origin: 204, the exact origin, methods, headers, max-age, credentials',
      request: preflight(APP),
      expected: {
        kind: 'preflight',
        allowed: true,
        status: 204,
        headers: {
          'access-control-allow-origin': APP,
          'access-control-allow-credentials': 'true',
          'access-control-allow-methods': 'GET, POST',
          'access-control-allow-headers': 'content-type, authorization',
          'access-control-max-age': '600',
          vary: 'Origin',
        },
      },
    },
    {
      name: 'preflight from an origin not listed: 403 and no CORS header',
      request: preflight('https://evil.example'),
      expected: {
        kind: 'preflight',
        allowed: false,
        status: 403,
        headers: { vary: 'Origin' },
        reason: 'origin https://evil.example is not in server.cors.origins',
      },
    },
    {
      name: 'preflight with cors off (no origins): 403 saying so',
      options: { origins: [], credentials: false },
      request: preflight(APP),
      expected: {
        kind: 'preflight',
        allowed: false,
        status: 403,
        headers: {},
        reason: 'cross-origin requests are off: server.cors.origins is empty',
      },
    },
    {
      name: 'a subdomain pattern admits a subdomain, echoed exactly',
      request: { method: 'POST', origin: 'https://pr-12.preview.example.com' },
      expected: {
        kind: 'actual',
        allowed: true,
        headers: {
          'access-control-allow-origin': 'https://pr-12.preview.example.com',
          'access-control-allow-credentials': 'true',
          'access-control-expose-headers': 'traceparent, retry-after',
          vary: 'Origin',
        },
      },
    },
    {
      name: 'a subdomain pattern does not admit the bare domain',
      request: { method: 'POST', origin: 'https://preview.example.com' },
      expected: { kind: 'actual', allowed: false, headers: { vary: 'Origin' } },
    },
    {
      name: 'a look-alike suffix is not a subdomain',
      request: { method: 'POST', origin: 'https://evilpreview.example.com' },
      expected: { kind: 'actual', allowed: false, headers: { vary: 'Origin' } },
    },
    {
      name: 'another scheme is another origin',
      request: { method: 'GET', origin: 'http://app.example.com' },
      expected: { kind: 'actual', allowed: false, headers: { vary: 'Origin' } },
    },
    {
      name: 'another port is another origin',
      request: { method: 'GET', origin: 'http://127.0.0.1:5174' },
      expected: { kind: 'actual', allowed: false, headers: { vary: 'Origin' } },
    },
    {
      name: 'the default port written out is the same origin',
      options: { origins: ['https://app.example.com:443/'] },
      request: { method: 'GET', origin: APP },
      expected: { kind: 'actual', allowed: true, headers: { 'access-control-allow-origin': APP } },
      partial: true,
    },
    {
      name: 'no Origin (same-origin GET, curl): nothing added but Vary',
      request: { method: 'GET' },
      expected: { kind: 'actual', allowed: false, headers: { vary: 'Origin' } },
    },
    {
      name: '"null" (sandboxed frame, file:) never matches a list',
      request: { method: 'POST', origin: 'null' },
      expected: { kind: 'actual', allowed: false, headers: { vary: 'Origin' } },
    },
    {
      name: 'two Origin values joined by the parser match nothing',
      request: { method: 'POST', origin: `${APP}, https://evil.example` },
      expected: { kind: 'actual', allowed: false, headers: { vary: 'Origin' } },
    },
    {
      name: 'origins ["*"] without credentials: a literal *, no Vary (the answer is the same for all)',
      options: { origins: ['*'], credentials: false },
      request: { method: 'POST', origin: 'https://anyone.example' },
      expected: {
        kind: 'actual',
        allowed: true,
        headers: {
          'access-control-allow-origin': '*',
          'access-control-expose-headers': 'traceparent, retry-after',
        },
      },
    },
    {
      name: 'allowedHeaders * echoes the requested names (tokens only) and varies on them',
      options: { allowedHeaders: ['*'] },
      request: preflight(APP, { requestHeaders: 'X-Tenant, content-type, bad header' }),
      expected: {
        kind: 'preflight',
        allowed: true,
        headers: {
          'access-control-allow-headers': 'x-tenant, content-type',
          vary: 'Origin, Access-Control-Request-Headers',
        },
      },
      partial: true,
    },
    {
      name: 'OPTIONS without Access-Control-Request-Method is not a preflight: 204 with Allow',
      request: { method: 'OPTIONS', origin: APP },
      expected: { kind: 'options', status: 204, headers: { allow: 'GET, POST, OPTIONS', vary: 'Origin' } },
    },
    {
      name: 'OPTIONS with no Origin (curl -X OPTIONS): 204 with Allow',
      options: { origins: [] },
      request: { method: 'OPTIONS', requestMethod: 'POST' },
      expected: { kind: 'options', status: 204, headers: { allow: 'GET, POST, OPTIONS' } },
    },
    {
      name: 'credentials off: no Allow-Credentials on the preflight',
      options: { credentials: false },
      request: preflight(APP),
      expected: {
        kind: 'preflight',
        allowed: true,
        status: 204,
        headers: {
          'access-control-allow-origin': APP,
          'access-control-allow-methods': 'GET, POST',
          'access-control-allow-headers': 'content-type, authorization',
          'access-control-max-age': '600',
          vary: 'Origin',
        },
      },
    },
  ])('$name', ({ options, request, expected, partial }) => {
    const decision = decideCors(createCorsPolicy({ ...base, ...options }), request);
    expect(decision).toMatchObject(expected);
    // toMatchObject lets extra headers through: a refused origin must get none, so compare them whole
    if (!partial) expect(decision.headers).toEqual(expected.headers);
  });
});

describe('upgradeAllowed (WebSocket Origin)', () => {
  const policy = createCorsPolicy(base);
  const off = createCorsPolicy({ ...base, origins: [], credentials: false });
  it.each([
    { name: 'no Origin (not a browser)', p: off, origin: undefined, host: 'gw:4000', ok: true },
    { name: 'same origin as the Host', p: off, origin: 'http://gw:4000', host: 'gw:4000', ok: true },
    { name: 'same origin, default port', p: off, origin: 'https://gw.example', host: 'gw.example', ok: true },
    {
      name: 'Host with the default port',
      p: off,
      origin: 'https://gw.example',
      host: 'gw.example:443',
      ok: true,
    },
    { name: 'another site, cors off', p: off, origin: 'https://evil.example', host: 'gw:4000', ok: false },
    { name: 'same host, another port', p: off, origin: 'http://gw:5000', host: 'gw:4000', ok: false },
    { name: 'a listed origin', p: policy, origin: APP, host: 'gw:4000', ok: true },
    { name: 'an unlisted origin', p: policy, origin: 'https://evil.example', host: 'gw:4000', ok: false },
    { name: '"null"', p: policy, origin: 'null', host: 'gw:4000', ok: false },
    { name: 'IPv6 host', p: off, origin: 'http://[::1]:4000', host: '[::1]:4000', ok: true },
  ])('$name → $ok', ({ p, origin, host, ok }) => {
    expect(upgradeAllowed(p, origin, host)).toBe(ok);
  });
});

describe('createCorsPolicy refuses bad options, naming the key', () => {
  it.each([
    { options: { origins: ['*'], credentials: true }, key: 'server.cors.credentials' },
    { options: { origins: [APP, 'app.example.com'] }, key: 'server.cors.origins.1' },
    { options: { origins: ['https://app.example.com/graphql'] }, key: 'server.cors.origins.0' },
    { options: { origins: ['null'] }, key: 'server.cors.origins.0' },
    { options: { origins: ['https://a.example:99999'] }, key: 'server.cors.origins.0' },
    { options: { allowedHeaders: ['content-type', 'x bad'] }, key: 'server.cors.allowedHeaders.1' },
    { options: { exposedHeaders: ['retry-after:'] }, key: 'server.cors.exposedHeaders.0' },
    { options: { maxAgeSeconds: -1 }, key: 'server.cors.maxAgeSeconds' },
  ])('$key', ({ options, key }) => {
    const attempt = () => createCorsPolicy({ ...base, ...options });
    expect(attempt).toThrow(CorsConfigError);
    expect(attempt).toThrow(new RegExp(`^${key.replace(/\./g, '\\.')}: `));
  });
});
