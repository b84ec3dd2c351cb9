import { describe, expect, it } from 'vitest';
import { DnsDiscovery, parseDnsEntry, type Resolver, replicaUrl } from './discovery.ts';

describe('dns:// entries', () => {
  const cases: { url: string; hostname: string; port: string; path: string }[] = [
    {
      url: 'dns://products.default.svc:4001/graphql',
      hostname: 'products.default.svc',
      port: '4001',
      path: '/graphql',
    },
    { url: 'dns://products:4001', hostname: 'products', port: '4001', path: '/graphql' },
    { url: 'dns://reviews/api/graphql?x=1', hostname: 'reviews', port: '', path: '/api/graphql?x=1' },
  ];
  it.each(cases)('$url', ({ url, ...expected }) => {
    expect(parseDnsEntry(url)).toEqual({ entry: url, ...expected });
  });

  it('builds replica URLs, bracketing IPv6', () => {
    const e = parseDnsEntry('dns://svc:4001/graphql');
    expect(replicaUrl(e, '10.0.0.7')).toBe('http://10.0.0.7:4001/graphql');
    expect(replicaUrl(e, 'fd00::7')).toBe('http://[fd00::7]:4001/graphql');
  });

  it('refuses what is not a dns:// entry', () => {
    expect(() => parseDnsEntry('http://svc:4001/graphql')).toThrow(TypeError);
  });
});

describe('DNS discovery', () => {
  it('adds and removes replicas as the answer changes, and keeps the last answer on failure', async () => {
    let answer: readonly string[] | Error = ['10.0.0.1', '10.0.0.2'];
    const resolver: Resolver = async (host) => {
      expect(host).toBe('svc');
      if (answer instanceof Error) throw answer;
      return answer;
    };
    const d = new DnsDiscovery([parseDnsEntry('dns://svc:4001/graphql')], resolver);
    const u = (n: number) => `http://10.0.0.${n}:4001/graphql`;

    expect(await d.refresh()).toEqual({
      added: [u(1), u(2)].map((url) => ({ url, entry: 'dns://svc:4001/graphql' })),
      removed: [],
      errors: [],
    });
    answer = ['10.0.0.2', '10.0.0.3'];
    const second = await d.refresh();
    expect(second.added.map((a) => a.url)).toEqual([u(3)]);
    expect(second.removed).toEqual([u(1)]);

    answer = new Error('SERVFAIL');
    const third = await d.refresh();
    expect(third).toMatchObject({ added: [], removed: [], errors: [{ entry: 'dns://svc:4001/graphql' }] });
    answer = [];
    expect((await d.refresh()).removed).toEqual([]); // an empty answer is a blip too
    expect(d.urls()).toEqual([u(2), u(3)]);
  });
});
