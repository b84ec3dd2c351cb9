import { describe, expect, it } from 'vitest';
import { claimAt, claimHeaderValue } from './claims.ts';
import { createHeaderRules } from './header-rules.ts';
import { reservedProblem } from './reserved.ts';
import {
  compileHeaderRules,
  type HeaderRule,
  type HeaderRuleInput,
  subgraphHeaders,
  unknownSubgraphNames,
} from './rules.ts';

const client = {
  'x-request-id': 'r-1',
  'x-client-version': '3.2',
  'x-acme-tenant': 'acme',
  'x-acme-region': 'eu',
  'x-list': ['a', 'b'],
  authorization: 'Bearer secret',
  cookie: 'sid=1',
  'x-api-key': 'tg_key',
  'proxy-authorization': 'Basic x',
  'proxy-connection': 'keep-alive',
  connection: 'keep-alive, x-acme-region',
  'keep-alive': 'timeout=5',
  te: 'trailers',
  'transfer-encoding': 'chunked',
  upgrade: 'websocket',
  host: 'gateway.example',
  'content-length': '42',
  'accept-encoding': 'gzip',
  'content-encoding': 'gzip',
  expect: '100-continue',
  'content-type': 'application/json',
  accept: 'text/html',
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  tracestate: 'k=v',
  'x-tollgate-signature': 'v1=forged',
} as const;
const claims = {
  sub: 'alice',
  org: { id: 'o-7', name: 'Acme' },
  'https://acme.example/tenant': 'acme',
  roles: ['admin', 'dev'],
  n: 3,
  ok: true,
};
const input: HeaderRuleInput = { headers: client, claims };

const cases: [string, HeaderRule[], Record<string, string>][] = [
  ['nothing without rules', [], {}],
  ['a named header', [{ propagate: { named: 'x-request-id' } }], { 'x-request-id': 'r-1' }],
  ['a named header, any case', [{ propagate: { named: 'X-Request-ID' } }], { 'x-request-id': 'r-1' }],
  [
    'a named header renamed',
    [{ propagate: { named: 'x-client-version', rename: 'x-app-version' } }],
    { 'x-app-version': '3.2' },
  ],
  [
    'a default when the client sent none',
    [{ propagate: { named: 'x-missing', rename: 'x-m', default: 'none' } }],
    { 'x-m': 'none' },
  ],
  ['nothing when absent without a default', [{ propagate: { named: 'x-missing' } }], {}],
  ['a repeated field as one line', [{ propagate: { named: 'x-list' } }], { 'x-list': 'a, b' }],
  [
    'matching: every match, skipping what Connection names (RFC 9110 §7.6.1)',
    [{ propagate: { matching: '^x-acme-' } }],
    { 'x-acme-tenant': 'acme' },
  ],
  [
    'matching everything: no hop-by-hop, framing, credential or gateway header',
    [{ propagate: { matching: '.*' } }],
    { 'x-request-id': 'r-1', 'x-client-version': '3.2', 'x-acme-tenant': 'acme', 'x-list': 'a, b' },
  ],
  [
    'a credential only by name',
    [{ propagate: { named: 'authorization' } }],
    { authorization: 'Bearer secret' },
  ],
  ['a cookie by name', [{ propagate: { named: 'cookie' } }], { cookie: 'sid=1' }],
  ['the api key by name', [{ propagate: { named: 'x-api-key' } }], { 'x-api-key': 'tg_key' }],
  ['a Connection-listed header not even by name', [{ propagate: { named: 'x-acme-region' } }], {}],
  ['a static value', [{ insert: { name: 'X-Gateway', value: 'tollgate' } }], { 'x-gateway': 'tollgate' }],
  ['a claim', [{ insert: { name: 'x-user', claim: 'sub' } }], { 'x-user': 'alice' }],
  ['a nested claim', [{ insert: { name: 'x-org', claim: 'org.id' } }], { 'x-org': 'o-7' }],
  [
    'a namespaced claim by its exact name',
    [{ insert: { name: 'x-tenant', claim: 'https://acme.example/tenant' } }],
    { 'x-tenant': 'acme' },
  ],
  ['a list claim', [{ insert: { name: 'x-roles', claim: 'roles' } }], { 'x-roles': 'admin, dev' }],
  ['a number claim', [{ insert: { name: 'x-n', claim: 'n' } }], { 'x-n': '3' }],
  ['an object claim is left out', [{ insert: { name: 'x-org', claim: 'org' } }], {}],
  ['a missing claim is left out', [{ insert: { name: 'x-plan', claim: 'plan' } }], {}],
  [
    "a missing claim's default",
    [{ insert: { name: 'x-plan', claim: 'plan', default: 'free' } }],
    { 'x-plan': 'free' },
  ],
  [
    'a missing claim takes out what the client sent under that name',
    [{ propagate: { named: 'x-request-id' } }, { insert: { name: 'x-request-id', claim: 'nope' } }],
    {},
  ],
  [
    'a later rule replaces an earlier one',
    [{ propagate: { named: 'x-request-id' } }, { insert: { name: 'x-request-id', value: 'fixed' } }],
    { 'x-request-id': 'fixed' },
  ],
  [
    'remove by name',
    [{ propagate: { matching: '^x-' } }, { remove: { named: 'x-list' } }],
    { 'x-request-id': 'r-1', 'x-client-version': '3.2', 'x-acme-tenant': 'acme' },
  ],
  [
    'remove by pattern',
    [{ propagate: { matching: '^x-' } }, { remove: { matching: '^x-(acme|list)' } }],
    { 'x-request-id': 'r-1', 'x-client-version': '3.2' },
  ],
  [
    'a rule after a remove adds again',
    [
      { insert: { name: 'x-a', value: '1' } },
      { remove: { named: 'x-a' } },
      { insert: { name: 'x-a', value: '2' } },
    ],
    { 'x-a': '2' },
  ],
];

describe('subgraphHeaders', () => {
  it.each(cases)('%s', (_, rules, expected) => {
    expect(subgraphHeaders(compileHeaderRules({ all: { request: rules } }), 'products', input)).toEqual(
      expected,
    );
  });

  it("runs the all rules, then the subgraph's, matching its name in any case", () => {
    const rules = compileHeaderRules({
      all: { request: [{ propagate: { matching: '^x-acme-' } }, { insert: { name: 'x-a', value: '1' } }] },
      subgraphs: {
        Products: {
          request: [{ remove: { named: 'x-acme-tenant' } }, { insert: { name: 'x-a', value: '2' } }],
        },
      },
    });
    expect(subgraphHeaders(rules, 'products', input)).toEqual({ 'x-a': '2' });
    expect(subgraphHeaders(rules, 'reviews', input)).toEqual({ 'x-acme-tenant': 'acme', 'x-a': '1' });
  });

  it('gives the static inserts and defaults only, with no client and no principal', () => {
    const rules = compileHeaderRules({
      all: {
        request: [
          { propagate: { named: 'x-request-id', default: 'none' } },
          { propagate: { matching: '.*' } },
          { insert: { name: 'x-user', claim: 'sub' } },
          { insert: { name: 'x-gateway', value: 'tollgate' } },
        ],
      },
    });
    expect(subgraphHeaders(rules, 'products', {})).toEqual({
      'x-request-id': 'none',
      'x-gateway': 'tollgate',
    });
  });
});

describe('unknownSubgraphNames', () => {
  it('names the per-subgraph sections that match no subgraph, in any case', () => {
    const config = { subgraphs: { Products: {}, prodcts: {}, reviews: {} } };
    expect(unknownSubgraphNames(config, ['products', 'REVIEWS', 'accounts'])).toEqual(['prodcts']);
    expect(unknownSubgraphNames({}, ['products'])).toEqual([]);
  });
});

describe('compileHeaderRules', () => {
  it('throws on a rule the config schema would have refused (no member)', () => {
    expect(() => compileHeaderRules({ all: { request: [{}] } })).toThrow(TypeError);
    expect(() => compileHeaderRules({ all: { request: [{ insert: { name: 'x-a' } }] } })).toThrow(TypeError);
  });
});

describe('claims', () => {
  it.each([
    ['sub', 'alice'],
    ['org.id', 'o-7'],
    ['org.missing', undefined],
    ['sub.length', undefined],
    ['roles.0', undefined],
    ['https://acme.example/tenant', 'acme'],
    ['__proto__', undefined],
    ['constructor', undefined],
  ])('claimAt %s', (path, expected) => {
    expect(claimAt(claims, path)).toEqual(expected);
  });

  it.each([
    ['text', ' a b ', 'a b'],
    ['number', 1.5, '1.5'],
    ['boolean', false, 'false'],
    ['list', ['a', 2], 'a, 2'],
    ['empty list', [], undefined],
    ['list with an object', ['a', {}], undefined],
    ['null', null, undefined],
    ['NaN', Number.NaN, undefined],
    ['a line break', 'a\r\nx-injected: 1', undefined],
    ['non-ASCII', 'Zoë', undefined],
  ])('claimHeaderValue of %s', (_, value, expected) => {
    expect(claimHeaderValue(value)).toBe(expected);
  });
});

describe('reservedProblem', () => {
  it.each([
    'connection',
    'Keep-Alive',
    'te',
    'trailer',
    'transfer-encoding',
    'upgrade',
    'proxy-connection',
    'proxy-authenticate',
    'host',
    'content-length',
    'content-encoding',
    'accept-encoding',
    'expect',
    'content-type',
    'accept',
    'traceparent',
    'tracestate',
    'x-tollgate-principal',
    'x-tollgate-timestamp',
    'x-tollgate-signature',
    'x-tollgate-signed-headers',
  ])('refuses %s', (name) => {
    expect(reservedProblem(name)).toMatch(name.toLowerCase());
  });

  it.each(['authorization', 'proxy-authorization', 'cookie', 'x-api-key', 'x-request-id'])(
    'allows %s',
    (name) => {
      expect(reservedProblem(name)).toBeUndefined();
    },
  );
});

describe('createHeaderRules', () => {
  it('is undefined without rules, so the fetch path skips them', () => {
    expect(createHeaderRules(undefined)).toBeUndefined();
    expect(createHeaderRules({})).toBeUndefined();
    expect(
      createHeaderRules({ all: { request: [] }, subgraphs: { products: { request: [] } } }),
    ).toBeUndefined();
  });

  it('works out each subgraph once per request context, and reads the principal and headers', () => {
    const apply = createHeaderRules({
      all: {
        request: [{ propagate: { named: 'x-request-id' } }, { insert: { name: 'x-user', claim: 'sub' } }],
      },
    });
    const context = { requestHeaders: { 'x-request-id': 'r-1' }, principal: { claims: { sub: 'alice' } } };
    const first = apply?.('products', context);
    expect(first).toEqual({ 'x-request-id': 'r-1', 'x-user': 'alice' });
    expect(apply?.('products', context)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(apply?.('products', { requestHeaders: { 'x-request-id': 'r-2' } })).toEqual({
      'x-request-id': 'r-2',
    });
    expect(apply?.('products', undefined)).toEqual({});
  });
});
