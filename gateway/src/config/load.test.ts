import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configFiles, issuesOf } from '../../test/fixtures/config-files.ts';
import { configFileOf, loadConfig } from './index.ts';

const { dir, file } = configFiles('tollgate-config-');

describe('loadConfig', () => {
  it('plans with hive by default; GATEWAY_SUPERGRAPH_PLANNER chooses, and a bad planner is named', () => {
    expect(loadConfig({ env: {} }).supergraph.planner).toBe('hive');
    expect(loadConfig({ env: { GATEWAY_SUPERGRAPH_PLANNER: 'apollo' } }).supergraph.planner).toBe('apollo');
    expect(() => loadConfig({ env: { GATEWAY_SUPERGRAPH_PLANNER: 'rust' } })).toThrow(/supergraph\.planner/);
    // the second executor is gone: its key is refused by name rather than ignored
    expect(() => loadConfig({ env: {}, base: { server: { executor: 'apollo' } } as never })).toThrow(
      /executor/,
    );
  });

  it('has a default for every key', () => {
    const c = loadConfig({ cwd: dir });
    expect(c.server.port).toBe(4000);
    expect(c.pool.timeoutMs).toBe(30_000);
    expect(c.subgraphs).toEqual([]);
  });

  it('layers defaults < file < env < CLI and freezes the result', () => {
    const path = file('a.yaml', 'server:\n  port: 5000\n  maxBodyBytes: 2048\npool:\n  timeoutMs: 100\n');
    const c = loadConfig({
      flags: { configFile: path, port: 7000 },
      env: { GATEWAY_POOL_TIMEOUT_MS: '250', GATEWAY_SERVER_PORT: '6000', REDIS_URL: 'redis://r:6379' },
      cwd: dir,
    });
    expect(c.server.port).toBe(7000); // CLI beats env beats file
    expect(c.pool.timeoutMs).toBe(250); // env beats file
    expect(c.server.maxBodyBytes).toBe(2048); // file beats default
    expect(c.redis.url).toBe('redis://r:6379');
    expect(Object.isFrozen(c.server)).toBe(true);
  });

  it('resolves file paths against the config file, and CLI paths against the working directory', () => {
    const path = file(
      'b.yaml',
      'subgraphs:\n  - name: products\n    replicas: [http://127.0.0.1:1/graphql]\n    schemaFile: p.graphql\n',
    );
    const c = loadConfig({ flags: { configFile: path, supergraphFile: 'sg.graphql' }, cwd: '/srv' });
    expect(c.subgraphs[0]!.schemaFile).toBe(join(dir, 'p.graphql'));
    expect(c.supergraph.file).toBe('/srv/sg.graphql');
  });

  it('reads the standard OTEL_* variables into telemetry, and names a bad one', () => {
    const c = loadConfig({
      env: {
        OTEL_SERVICE_NAME: 'edge',
        OTEL_TRACES_SAMPLER: 'traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.25',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'HTTP/JSON',
        OTEL_PROPAGATORS: 'b3multi, tracecontext',
      },
      cwd: dir,
    });
    expect(c.telemetry).toMatchObject({
      serviceName: 'edge',
      sampler: 'traceidratio',
      samplerRatio: 0.25,
      protocol: 'http/json',
      propagators: ['b3multi', 'tracecontext'],
    });
    expect(loadConfig({ cwd: dir }).telemetry).toMatchObject({
      enabled: true,
      protocol: 'http/protobuf',
      propagators: ['tracecontext', 'baggage'],
    });
    expect(loadConfig({ env: { OTEL_SDK_DISABLED: 'true' }, cwd: dir }).telemetry.enabled).toBe(false);
    const issues = issuesOf(() =>
      loadConfig({
        env: { OTEL_PROPAGATORS: 'tracecontext,xray', OTEL_EXPORTER_OTLP_PROTOCOL: 'thrift' },
        cwd: dir,
      }),
    );
    expect(issues.join('\n')).toMatch(/telemetry\.propagators\.1/);
    expect(issues.join('\n')).toMatch(/telemetry\.protocol/);
  });

  it('names the key of a bad readiness, circuit breaker or manifest watch setting', () => {
    const path = file(
      'new-keys.yaml',
      [
        'server: { readiness: sometimes }',
        'pool:',
        '  circuitBreaker: { enabled: true, failureRatePercent: 0, halfOpenRequests: -1 }',
        '  overrides: { reviews: { circuitBreaker: { openMs: soon } } }',
        'persistedQueries:',
        '  trustedDocuments: { manifest: m.json, pollIntervalMs: 10 }',
      ].join('\n'),
    );
    const issues = issuesOf(() => loadConfig({ flags: { configFile: path }, cwd: dir })).join('\n');
    for (const key of [
      'server.readiness',
      'pool.circuitBreaker.failureRatePercent',
      'pool.circuitBreaker.halfOpenRequests',
      'pool.overrides.reviews.circuitBreaker.openMs',
      'persistedQueries.trustedDocuments.pollIntervalMs',
    ])
      expect(issues).toContain(key);
  });

  it("reads 'false' from the environment as false", () => {
    expect(loadConfig({ env: { GATEWAY_SERVER_IDE: 'false' }, cwd: dir }).server.ide).toBe(false);
  });

  it('names the key of every bad value', () => {
    const path = file(
      'c.yaml',
      'server:\n  port: -1\npool:\n  timeoutMs: soon\n  bogus: 1\nsubgraphs:\n  - name: x\n    replicas: []\n',
    );
    const issues = issuesOf(() => loadConfig({ flags: { configFile: path }, cwd: dir }));
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^server\.port: /),
        expect.stringMatching(/^pool\.timeoutMs: expected number/),
        expect.stringMatching(/^pool: unknown key\(s\) bogus/),
        expect.stringMatching(/^subgraphs\.0\.replicas: /),
      ]),
    );
  });

  it('rejects a missing --config file and broken YAML with a clear line', () => {
    expect(
      issuesOf(() => loadConfig({ flags: { configFile: join(dir, 'nope.yaml') }, cwd: dir }))[0],
    ).toMatch(/ENOENT/);
    const bad = file('d.yaml', 'server: [unclosed');
    expect(issuesOf(() => loadConfig({ flags: { configFile: bad }, cwd: dir }))[0]).toMatch(/not valid YAML/);
  });

  // issue 19: the standalone gateway ignored PORT
  it('honours PORT above the file, below GATEWAY_SERVER_PORT and --port, and names a bad PORT', () => {
    const path = file('port.yaml', 'server:\n  port: 5000\n');
    const port = (env: Record<string, string>, flags = {}) =>
      loadConfig({ flags: { configFile: path, ...flags }, env, cwd: dir }).server.port;
    expect(port({})).toBe(5000);
    expect(port({ PORT: '5001' })).toBe(5001);
    expect(port({ PORT: '5001', GATEWAY_SERVER_PORT: '5002' })).toBe(5002);
    expect(port({ PORT: '5001', GATEWAY_SERVER_PORT: '5002' }, { port: 5003 })).toBe(5003);
    expect(port({ PORT: '0' })).toBe(0);
    expect(issuesOf(() => port({ PORT: 'http' }))).toEqual([
      'PORT: expected a port number (0-65535), got "http"',
    ]);
    expect(issuesOf(() => port({ PORT: '70000' }))[0]).toMatch(/^PORT: /);
  });

  it('takes typed flags: --supergraph, --host and --port set their keys above the env', () => {
    const c = loadConfig({
      flags: { supergraphFile: 'x.graphql', host: '127.0.0.1', port: 0 },
      env: { GATEWAY_SERVER_HOST: '::', GATEWAY_SERVER_PORT: '9' },
      cwd: dir,
    });
    expect([c.supergraph.file, c.server.host, c.server.port]).toEqual([
      join(dir, 'x.graphql'),
      '127.0.0.1',
      0,
    ]);
  });

  it('says which config file it reads: --config, else GATEWAY_CONFIG, else ./gateway.config.yaml if present', () => {
    const named = file('named.yaml', '');
    expect(
      configFileOf({ flags: { configFile: named }, env: { GATEWAY_CONFIG: 'other.yaml' }, cwd: dir }),
    ).toBe(named);
    expect(configFileOf({ env: { GATEWAY_CONFIG: 'named.yaml' }, cwd: dir })).toBe(named);
    expect(configFileOf({ env: { GATEWAY_CONFIG: '' }, cwd: dir })).toBeUndefined();
    const empty = mkdtempSync(join(tmpdir(), 'tollgate-config-none-'));
    expect(configFileOf({ env: {}, cwd: empty })).toBeUndefined();
    writeFileSync(join(empty, 'gateway.config.yaml'), 'server: { port: 5005 }\n');
    expect(configFileOf({ env: {}, cwd: empty })).toBe(join(empty, 'gateway.config.yaml'));
    expect(loadConfig({ env: {}, cwd: empty }).server.port).toBe(5005);
    // an empty GATEWAY_CONFIG reads no file, even one in the working directory
    expect(loadConfig({ env: { GATEWAY_CONFIG: '' }, cwd: empty }).server.port).toBe(4000);
  });
});
