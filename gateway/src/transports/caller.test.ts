import { describe, expect, it } from 'vitest';
import { callerHeaders, flattenHeaders } from './caller.ts';

describe('callerHeaders', () => {
  const upgrade = { authorization: 'Bearer from-upgrade', host: 'gw', 'x-api-key': 'k-upgrade' };
  const cases: {
    name: string;
    params: Record<string, unknown> | undefined;
    authorization: string | undefined;
    apiKey: string | undefined;
  }[] = [
    {
      name: 'no payload keeps the upgrade headers',
      params: undefined,
      authorization: 'Bearer from-upgrade',
      apiKey: 'k-upgrade',
    },
    {
      name: 'lower-case authorization replaces',
      params: { authorization: 'Bearer p' },
      authorization: 'Bearer p',
      apiKey: 'k-upgrade',
    },
    {
      name: 'Authorization (GraphiQL header editor) replaces',
      params: { Authorization: 'Bearer P' },
      authorization: 'Bearer P',
      apiKey: 'k-upgrade',
    },
    {
      name: 'x-api-key replaces',
      params: { 'X-API-Key': 'k-p' },
      authorization: 'Bearer from-upgrade',
      apiKey: 'k-p',
    },
    {
      name: 'nested headers are read',
      params: { headers: { Authorization: 'Bearer n' } },
      authorization: 'Bearer n',
      apiKey: 'k-upgrade',
    },
    {
      name: 'top level wins over nested',
      params: { authorization: 'Bearer t', headers: { authorization: 'Bearer n' } },
      authorization: 'Bearer t',
      apiKey: 'k-upgrade',
    },
    {
      name: 'non-string values are ignored',
      params: { authorization: 42, 'x-api-key': { a: 1 } },
      authorization: 'Bearer from-upgrade',
      apiKey: 'k-upgrade',
    },
    {
      name: 'empty strings are ignored',
      params: { authorization: '' },
      authorization: 'Bearer from-upgrade',
      apiKey: 'k-upgrade',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const headers = callerHeaders(upgrade, c.params);
      expect(headers.authorization).toBe(c.authorization);
      expect(headers['x-api-key']).toBe(c.apiKey);
      expect(headers.host).toBe('gw');
    });
  }

  it('takes credentials without an upgrade header too, and nothing else from the payload', () => {
    const headers = callerHeaders({ host: 'gw' }, { Authorization: 'Bearer x', cookie: 'a=b', host: 'evil' });
    expect(headers).toEqual({ host: 'gw', authorization: 'Bearer x' });
  });
});

describe('flattenHeaders', () => {
  it('joins repeated headers and drops undefined ones', () => {
    expect(flattenHeaders({ 'set-cookie': ['a', 'b'], x: 'y', z: undefined })).toEqual({
      'set-cookie': 'a, b',
      x: 'y',
    });
  });
});
