import { describe, expect, it } from 'vitest';
import { clientLimitOptions } from './listener.ts';

describe('clientLimitOptions', () => {
  const cases = [
    {
      name: 'the defaults: checked every second',
      limits: {
        headersTimeoutMs: 10_000,
        requestTimeoutMs: 30_000,
        keepAliveTimeoutMs: 65_000,
        maxHeaderBytes: 16_384,
      },
      want: {
        headersTimeout: 10_000,
        requestTimeout: 30_000,
        keepAliveTimeout: 65_000,
        maxHeaderSize: 16_384,
        connectionsCheckingInterval: 1_000,
      },
    },
    {
      name: 'short timeouts: checked at a quarter of the shorter one',
      limits: { headersTimeoutMs: 500, requestTimeoutMs: 1_000 },
      want: { headersTimeout: 500, requestTimeout: 1_000, connectionsCheckingInterval: 125 },
    },
    {
      name: 'very short: the check runs no more often than every 50 ms',
      limits: { headersTimeoutMs: 0, requestTimeoutMs: 100 },
      want: { headersTimeout: 0, requestTimeout: 100, connectionsCheckingInterval: 50 },
    },
    {
      name: 'both off: node keeps its own check interval',
      limits: { headersTimeoutMs: 0, requestTimeoutMs: 0 },
      want: { headersTimeout: 0, requestTimeout: 0 },
    },
    { name: 'nothing given: node defaults throughout', limits: {}, want: {} },
  ];
  for (const c of cases) it(c.name, () => expect(clientLimitOptions(c.limits)).toEqual(c.want));
});
