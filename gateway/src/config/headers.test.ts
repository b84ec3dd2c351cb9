import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './index.ts';

const load = (headers: unknown) => loadConfig({ env: {}, base: { headers } as never });
function issues(headers: unknown): string[] {
  try {
    load(headers);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message
      .split('\n')
      .slice(1)
      .map((l) => l.trim());
  }
  return expect.fail('expected a ConfigError');
}
const all = (...request: unknown[]) => ({ all: { request } });

describe('headers config', () => {
  it('defaults to no rules', () => {
    expect(loadConfig({ env: {} }).headers).toEqual({ all: { request: [] }, subgraphs: {} });
  });

  it('takes the documented shapes', () => {
    const headers = {
      all: {
        request: [
          { propagate: { named: 'x-request-id' } },
          { propagate: { named: 'x-client-version', rename: 'x-app-version', default: 'unknown' } },
          { propagate: { matching: '^x-acme-' } },
          { propagate: { named: 'authorization' } },
          { insert: { name: 'x-gateway', value: 'tollgate' } },
          { insert: { name: 'x-user-id', claim: 'sub' } },
          { insert: { name: 'x-org-id', claim: 'org.id', default: 'none' } },
        ],
      },
      subgraphs: {
        products: { request: [{ remove: { named: 'x-acme-debug' } }, { remove: { matching: '^x-a' } }] },
      },
    };
    expect(load(headers).headers).toEqual(headers);
  });

  const bad: [string, unknown, RegExp][] = [
    [
      'a rule with two members',
      all({ insert: { name: 'x-a', value: '1' }, remove: { named: 'x-a' } }),
      /^headers\.all\.request\.0: give one of insert, remove/,
    ],
    ['an empty rule', all({}), /^headers\.all\.request\.0: give propagate or insert or remove/],
    ['an unknown member', all({ set: { name: 'x-a' } }), /^headers\.all\.request\.0: unknown key\(s\) set/],
    [
      'propagate named and matching',
      all({ propagate: { named: 'x-a', matching: 'x' } }),
      /^headers\.all\.request\.0\.propagate: give one of named, matching/,
    ],
    [
      'rename with matching',
      all({ propagate: { matching: 'x', rename: 'x-b' } }),
      /^headers\.all\.request\.0\.propagate: rename and default go with named/,
    ],
    [
      'a bad pattern',
      all({ propagate: { matching: '(' } }),
      /^headers\.all\.request\.0\.propagate\.matching: not a regular expression/,
    ],
    [
      'a bad header name',
      all({ propagate: { named: 'x a' } }),
      /^headers\.all\.request\.0\.propagate\.named: expected a header name/,
    ],
    [
      'a line break in a value',
      all({ insert: { name: 'x-a', value: 'a\r\nx-b: 1' } }),
      /^headers\.all\.request\.0\.insert\.value: expected a header value/,
    ],
    [
      'insert value and claim',
      all({ insert: { name: 'x-a', value: '1', claim: 'sub' } }),
      /^headers\.all\.request\.0\.insert: give one of value, claim/,
    ],
    [
      'a default without claim',
      all({ insert: { name: 'x-a', value: '1', default: '2' } }),
      /^headers\.all\.request\.0\.insert\.default: default goes with claim/,
    ],
    [
      'insert content-type',
      all({ insert: { name: 'Content-Type', value: 'text/plain' } }),
      /^headers\.all\.request\.0\.insert\.name: content-type is set by the gateway/,
    ],
    [
      'insert a signature header',
      all({ insert: { name: 'x-tollgate-principal', value: 'x' } }),
      /^headers\.all\.request\.0\.insert\.name: x-tollgate-principal is set by the gateway/,
    ],
    [
      'propagate traceparent',
      all({ propagate: { named: 'traceparent' } }),
      /^headers\.all\.request\.0\.propagate\.named: traceparent is set by the gateway/,
    ],
    [
      'rename onto accept',
      all({ propagate: { named: 'x-accept', rename: 'accept' } }),
      /^headers\.all\.request\.0\.propagate\.rename: accept is set by the gateway/,
    ],
    [
      'propagate host',
      all({ propagate: { named: 'host' } }),
      /^headers\.all\.request\.0\.propagate\.named: host frames the message/,
    ],
    [
      'insert transfer-encoding',
      all({ insert: { name: 'transfer-encoding', value: 'chunked' } }),
      /^headers\.all\.request\.0\.insert\.name: transfer-encoding belongs to one connection/,
    ],
    [
      'propagate proxy-connection',
      all({ propagate: { named: 'proxy-connection' } }),
      /^headers\.all\.request\.0\.propagate\.named: proxy-connection is a hop-by-hop header/,
    ],
    [
      'remove content-type',
      { subgraphs: { products: { request: [{ remove: { named: 'content-type' } }] } } },
      /^headers\.subgraphs\.products\.request\.0\.remove\.named: content-type is set by the gateway/,
    ],
  ];
  it.each(bad)('refuses %s, naming the key', (_, headers, message) => {
    // the first issue is the one that explains (an unknown member also leaves the rule without one)
    expect(issues(headers)[0]).toMatch(message);
  });

  it('reads a renamed reserved header from the client', () => {
    expect(() =>
      load(all({ propagate: { named: 'content-type', rename: 'x-client-content-type' } })),
    ).not.toThrow();
  });
});
