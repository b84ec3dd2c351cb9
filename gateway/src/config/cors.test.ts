import { describe, expect, it } from 'vitest';
import { loadConfig } from './index.ts';

// server.cors as the config loader sees it: defaults, env lists, and the errors naming the key.
describe('server.cors config', () => {
  it('is off by default: no origins, no credentials', () => {
    const { cors } = loadConfig({ env: {} }).server;
    expect(cors.origins).toEqual([]);
    expect(cors.credentials).toBe(false);
    expect(cors.exposedHeaders).toEqual(['traceparent', 'ratelimit', 'ratelimit-policy', 'retry-after']);
    expect(cors.maxAgeSeconds).toBe(600);
  });

  it('takes origins from one env variable, comma-separated', () => {
    const { cors } = loadConfig({
      env: {
        GATEWAY_SERVER_CORS__ORIGINS: 'https://app.example.com, https://*.preview.example.com',
        GATEWAY_SERVER_CORS__CREDENTIALS: 'true',
      },
    }).server;
    expect(cors.origins).toEqual(['https://app.example.com', 'https://*.preview.example.com']);
    expect(cors.credentials).toBe(true);
  });

  it.each([
    { cors: { origins: ['*'], credentials: true }, message: /server\.cors\.credentials: cannot be true/ },
    { cors: { origins: ['app.example.com'] }, message: /server\.cors\.origins\.0: expected an origin/ },
    {
      cors: { origins: ['https://a.example/graphql'] },
      message: /server\.cors\.origins\.0: expected an origin/,
    },
    { cors: { origins: ['null'] }, message: /server\.cors\.origins\.0: "null" is the origin/ },
    { cors: { maxAgeSeconds: -5 }, message: /server\.cors\.maxAgeSeconds/ },
    { cors: { allowOrigins: ['*'] }, message: /server\.cors.*allowOrigins/ },
  ])('refuses $cors naming the key', ({ cors, message }) => {
    expect(() => loadConfig({ env: {}, base: { server: { cors } } as never })).toThrow(message);
  });
});
