// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} is the config syntax under test, not a template
import { describe, expect, it } from 'vitest';
import { configFiles, issuesOf } from '../../test/fixtures/config-files.ts';
import { loadConfig } from './index.ts';

const { dir, file } = configFiles('tollgate-config-env-');
const load = (env: Record<string, string>) => {
  const warnings: string[] = [];
  const config = loadConfig({ env, cwd: dir, onWarning: (m) => warnings.push(m) });
  return { config, warnings };
};

describe('env overrides: nested keys with __', () => {
  it('reaches keys below the section, a level per __, words by _', () => {
    const { config, warnings } = load({
      GATEWAY_POOL_CIRCUIT_BREAKER__MIN_REQUESTS: '7',
      GATEWAY_POOL_HEALTH_CHECK__INTERVAL_MS: '0',
      GATEWAY_POOL_OVERRIDES__REVIEWS__TIMEOUT_MS: '500',
      GATEWAY_SUBSCRIPTIONS_UPSTREAM__CONNECT_TIMEOUT_MS: '900',
      GATEWAY_POOL_TIMEOUT_MS: '250',
    });
    expect(config.pool.circuitBreaker.minRequests).toBe(7);
    // its siblings keep their defaults
    expect(config.pool.circuitBreaker.openMs).toBe(load({}).config.pool.circuitBreaker.openMs);
    expect(config.pool.healthCheck.intervalMs).toBe(0);
    expect(config.pool.overrides).toEqual({ reviews: { timeoutMs: 500 } });
    expect(config.subscriptions.upstream.connectTimeoutMs).toBe(900);
    expect(config.pool.timeoutMs).toBe(250);
    expect(warnings).toEqual([]);
  });

  it('beats the file key by key, and a misspelt nested key is an error naming it', () => {
    const path = file('nested.yaml', 'pool:\n  circuitBreaker:\n    minRequests: 3\n    openMs: 1234\n');
    const c = loadConfig({ env: { GATEWAY_CONFIG: path, GATEWAY_POOL_CIRCUIT_BREAKER__MIN_REQUESTS: '9' } });
    expect(c.pool.circuitBreaker).toMatchObject({ minRequests: 9, openMs: 1234 });
    expect(issuesOf(() => load({ GATEWAY_POOL_CIRCUIT_BREAKER__MIN_REQUEST: '9' }))).toEqual([
      'pool.circuitBreaker: unknown key(s) minRequest',
    ]);
    // without __ the words are one key of the section, which does not exist
    expect(issuesOf(() => load({ GATEWAY_POOL_CIRCUIT_BREAKER_MIN_REQUESTS: '9' }))).toEqual([
      'pool: unknown key(s) circuitBreakerMinRequests',
    ]);
  });

  it('spells two-word sections with _ (the old one-word spelling still works) and sets a bare section', () => {
    expect(load({ GATEWAY_PERSISTED_QUERIES_TTL_SECONDS: '60' }).config.persistedQueries.ttlSeconds).toBe(60);
    expect(load({ GATEWAY_PERSISTEDQUERIES_TTL_SECONDS: '61' }).config.persistedQueries.ttlSeconds).toBe(61);
    expect(load({ GATEWAY_DEVELOPMENT: 'true' }).config.development).toBe(true);
    expect(load({ GATEWAY_LOG_LEVEL: 'debug', GATEWAY_LOG_FORMAT: 'json' }).config.log).toEqual({
      level: 'debug',
      format: 'json',
    });
    expect(issuesOf(() => load({ GATEWAY_LOG_LEVEL: 'loud' }))[0]).toMatch(/^log\.level: /);
  });

  it('warns, naming the nearest section, for a GATEWAY_ variable whose section does not exist', () => {
    const { config, warnings } = load({ GATEWAY_POLL_TIMEOUT_MS: '5', GATEWAY_RATE_LIMIT_ENABLED: 'false' });
    expect(config.pool.timeoutMs).toBe(30_000);
    expect(config.ratelimit.enabled).toBe(true);
    expect(warnings).toEqual([
      'GATEWAY_POLL_TIMEOUT_MS is ignored: no config section POLL (nearest: pool, as GATEWAY_POOL_TIMEOUT_MS)',
      'GATEWAY_RATE_LIMIT_ENABLED is ignored: no config section RATE (nearest: ratelimit, as GATEWAY_RATELIMIT_ENABLED)',
    ]);
  });

  it('says nothing of GATEWAY_CONFIG or the variables Kubernetes sets for a Service named gateway', () => {
    const { warnings } = load({
      GATEWAY_SERVICE_HOST: '10.0.0.7',
      GATEWAY_SERVICE_PORT: '80',
      GATEWAY_SERVICE_PORT_HTTP: '80',
      GATEWAY_PORT: 'tcp://10.0.0.7:80',
      GATEWAY_PORT_80_TCP: 'tcp://10.0.0.7:80',
      GATEWAY_PORT_80_TCP_ADDR: '10.0.0.7',
    });
    expect(warnings).toEqual([]);
  });

  it('warns for an empty level (___ or a trailing _)', () => {
    expect(load({ GATEWAY_POOL_RETRY___MAX_ATTEMPTS: '2' }).warnings).toEqual([
      'GATEWAY_POOL_RETRY___MAX_ATTEMPTS is ignored: expected GATEWAY_POOL_KEY, with __ between nested keys',
    ]);
  });
});

describe('${VAR} in the YAML file', () => {
  const yaml = (name: string, text: string, env: Record<string, string>) =>
    loadConfig({ env: { GATEWAY_CONFIG: file(name, text), ...env } });

  it('expands ${VAR} and ${VAR:-default} in string values; the schema coerces them as env values', () => {
    const c = yaml(
      'vars.yaml',
      [
        'server:',
        '  port: ${PORT}',
        '  host: ${HOST:-127.0.0.1}',
        '  ide: ${IDE:-false}',
        'supergraph:',
        '  url: https://${CDN_HOST}/graphs/${GRAPH:-main}/supergraph.graphql',
        '  headers:',
        '    authorization: Bearer ${TOKEN}',
        '    x-literal: cost $${NOT_A_VAR} and $5',
        'pool:',
        '  retry:',
        '    onStatus: [502, "${RETRY_STATUS}"]',
      ].join('\n'),
      { PORT: '4100', CDN_HOST: 'cdn.example', TOKEN: 's3cret', RETRY_STATUS: '503', HOST: '' },
    );
    expect(c.server).toMatchObject({ port: 4100, host: '127.0.0.1', ide: false });
    expect(c.supergraph.url).toBe('https://cdn.example/graphs/main/supergraph.graphql');
    expect(c.supergraph.headers).toEqual({
      authorization: 'Bearer s3cret',
      'x-literal': 'cost ${NOT_A_VAR} and $5',
    });
    expect(c.pool.retry.onStatus).toEqual([502, 503]);
  });

  it('names the key path and the variable of every unset ${VAR} without a default, and malformed ones', () => {
    const issues = issuesOf(() =>
      yaml(
        'unset.yaml',
        'supergraph:\n  headers:\n    authorization: Bearer ${SG_TOKEN}\nserver:\n  host: ${1HOST}\n  port: ${PORT\n',
        {},
      ),
    );
    expect(issues).toHaveLength(3);
    expect(issues[0]).toMatch(
      /^supergraph\.headers\.authorization: environment variable SG_TOKEN is not set \(or give a default: \$\{SG_TOKEN:-value\}\) \(in .*unset\.yaml\)$/,
    );
    expect(issues[1]).toMatch(/^server\.host: malformed \$\{1HOST\}/);
    expect(issues[2]).toMatch(/^server\.port: unclosed \$\{/);
  });

  it('leaves keys, numbers and the env layer alone: a variable is expanded in the file only', () => {
    const c = yaml('keys.yaml', 'pool:\n  overrides:\n    ${NAME}: { timeoutMs: 5 }\n', {
      NAME: 'x',
      GATEWAY_SERVER_HOST: '${NAME}',
    });
    expect(Object.keys(c.pool.overrides)).toEqual(['${NAME}']);
    expect(c.server.host).toBe('${NAME}');
  });
});

describe('supergraph.url', () => {
  it('takes a URL given as the supergraph file (--supergraph <url>) as the URL source', () => {
    const c = loadConfig({
      env: {},
      cwd: dir,
      base: { supergraph: { file: 'https://cdn.example/sg.graphql' } },
    });
    expect(c.supergraph).toMatchObject({
      url: 'https://cdn.example/sg.graphql',
      headers: {},
      timeoutMs: 10_000,
    });
    expect(c.supergraph.file).toBeUndefined();
  });

  it('refuses a file and a URL at once', () => {
    expect(
      issuesOf(() =>
        loadConfig({
          env: { GATEWAY_SUPERGRAPH_URL: 'http://127.0.0.1:1/sg' },
          base: { supergraph: { file: 'a' } },
        }),
      ),
    ).toEqual(['supergraph.url: give supergraph.url or supergraph.file, not both']);
  });
});
