import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configFiles, issuesOf } from '../../test/fixtures/config-files.ts';
import { loadConfig } from '../config/index.ts';

// The config keys of server.tls and subgraphs[].tls, as loadConfig reads them (no file is opened here).
describe('tls config keys', () => {
  const { dir, file } = configFiles('tollgate-tls-config-');

  it('resolves the PEM paths of a config file against its folder, and defaults minVersion to TLSv1.2', () => {
    const path = file(
      'gateway.yaml',
      [
        'server:',
        '  tls: { certFile: certs/gw.crt, keyFile: /abs/gw.key, caFile: certs/clients.pem }',
        'subgraphs:',
        '  - name: products',
        '    replicas: [https://products.internal/graphql]',
        '    tls: { certFile: mesh/client.crt, keyFile: mesh/client.key, caFile: mesh/ca.pem }',
      ].join('\n'),
    );
    const c = loadConfig({ flags: { configFile: path }, cwd: '/elsewhere' });
    expect(c.server.tls).toEqual({
      certFile: join(dir, 'certs/gw.crt'),
      keyFile: '/abs/gw.key',
      caFile: join(dir, 'certs/clients.pem'),
      minVersion: 'TLSv1.2',
    });
    expect(c.subgraphs[0]!.tls).toEqual({
      certFile: join(dir, 'mesh/client.crt'),
      keyFile: join(dir, 'mesh/client.key'),
      caFile: join(dir, 'mesh/ca.pem'),
    });
  });

  it('leaves server.tls out by default: plain HTTP', () => {
    expect(loadConfig({ env: {} }).server.tls).toBeUndefined();
  });

  it('takes the keys from the environment', () => {
    const c = loadConfig({
      env: { GATEWAY_SERVER_TLS__CERT_FILE: 'a.crt', GATEWAY_SERVER_TLS__KEY_FILE: 'a.key' },
      cwd: '/srv',
    });
    expect(c.server.tls).toMatchObject({ certFile: '/srv/a.crt', keyFile: '/srv/a.key' });
  });

  const bad: { name: string; base: Record<string, unknown>; issue: RegExp }[] = [
    {
      name: 'a server.tls without keyFile',
      base: { server: { tls: { certFile: 'a' } } },
      issue: /^server\.tls\.keyFile: required/,
    },
    {
      name: 'TLS 1.1',
      base: { server: { tls: { certFile: 'a', keyFile: 'b', minVersion: 'TLSv1.1' } } },
      issue: /^server\.tls\.minVersion: invalid enum value/,
    },
    {
      name: 'an unknown key',
      base: { server: { tls: { certFile: 'a', keyFile: 'b', cert: 'c' } } },
      issue: /^server\.tls: unknown key\(s\) cert/,
    },
    {
      name: 'a client certificate without its key',
      base: { subgraphs: [{ name: 'p', replicas: ['https://p/graphql'], tls: { certFile: 'c' } }] },
      issue: /^subgraphs\.0\.tls\.keyFile: required with a client certificate$/,
    },
  ];
  for (const c of bad) {
    it(`refuses ${c.name}, naming the key`, () => {
      expect(issuesOf(() => loadConfig({ base: c.base, env: {} }))).toEqual([expect.stringMatching(c.issue)]);
    });
  }
});
