import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startTestSubgraph, type TestSubgraph } from '@tollgate/kit/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as accounts from '../../services/accounts/src/server.ts';
import { freePort, gql, killGateways, PRODUCTS_SDL, spawnGateway, tempFiles } from './helpers.ts';

// Every `tollgate` command run as a real process (gateway/bin/tollgate.js), checking exit codes and output.
const BIN = fileURLToPath(new URL('../bin/tollgate.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
const { write } = tempFiles('cli-commands');

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}
/** Runs `tollgate <args>` to its end, with no config file of its own and no signing secret. */
function tollgate(args: string[], env: Record<string, string> = {}): Promise<Ran> {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, GATEWAY_CONFIG: '', TOLLGATE_SIGNING_SECRET: '', PORT: '', ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

const SERVICES = ['accounts', 'inventory', 'products', 'reviews'];
/** A config naming the four sample services by their schema files (replicas that do not need to run). */
const sampleConfig = (port = 9) =>
  write(
    `samples-${port}.yaml`,
    `subgraphs:\n${SERVICES.map(
      (s, i) =>
        `  - name: ${s}\n    schemaFile: ${ROOT}services/${s}/schema.graphql\n    replicas: [http://127.0.0.1:${port}/graphql${i}]\n`,
    ).join('')}`,
  );

afterEach(killGateways);

describe('tollgate --help and --version', () => {
  it('--help and -h print the usage of every command and exit 0', async () => {
    for (const flag of ['--help', '-h']) {
      const r = await tollgate([flag]);
      expect(r.code).toBe(0);
      for (const usage of [
        'tollgate [serve] [--supergraph <file|url>] [--config <file>] [--port <n>] [--host <address>]',
        'tollgate compose [--config <file>] [--output <file>]',
        'tollgate config validate [--config <file>]',
        'tollgate config schema [--output <file>]',
      ])
        expect(r.stdout).toContain(usage);
      expect(r.stderr).toBe('');
    }
    const compose = await tollgate(['compose', '--help']);
    expect(compose.code).toBe(0);
    expect(compose.stdout).toMatch(/^Usage: tollgate compose/);
    expect(compose.stdout).toContain('--output <file>');
  });

  it("--version and -v print the gateway package's version and exit 0", async () => {
    for (const flag of ['--version', '-v'])
      expect(await tollgate([flag])).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
  });

  it('refuses unknown or incomplete flags with exit 2, a did-you-mean and a pointer to --help', async () => {
    const typo = await tollgate(['--prot', '4000']);
    expect(typo).toMatchObject({ code: 2, stdout: '' });
    expect(typo.stderr).toBe(
      'tollgate: unknown option --prot\n  did you mean --port?\n  run `tollgate --help` for usage\n',
    );
    const bare = await tollgate(['--port']);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/^tollgate: --port needs a value \(--port <n>\)\n/);
    const abc = await tollgate(['--port', 'abc']);
    expect(abc.code).toBe(2);
    expect(abc.stderr).toMatch(/^tollgate: --port: expected a port number \(0-65535\), got "abc"/);
    const command = await tollgate(['compse']);
    expect(command.code).toBe(2);
    expect(command.stderr).toContain('did you mean `tollgate compose`?');
  });
});

describe('tollgate config validate', () => {
  it('says OK with the file it read, and exits 0', async () => {
    const r = await tollgate(['config', 'validate', '--config', 'infra/compose/gateway.config.yaml']);
    expect(r).toEqual({
      code: 0,
      stdout: `config OK: ${ROOT}infra/compose/gateway.config.yaml\n`,
      stderr: '',
    });
  });

  it('prints one line per problem naming the key, from the file and the environment, and exits 2', async () => {
    const bad = write(
      'bad.yaml',
      'server:\n  port: not-a-port\nratelimit:\n  failureMode: sideways\npool: { bogus: 1 }\n',
    );
    const r = await tollgate(['config', 'validate', '-c', bad], { GATEWAY_POOL_TIMEOUT_MS: 'soon' });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe(`tollgate: ${bad}: 4 problem(s)`);
    expect(
      lines
        .slice(1)
        .map((l) => l.trim().split(':')[0])
        .sort(),
    ).toEqual(['pool', 'pool.timeoutMs', 'ratelimit.failureMode', 'server.port']);
  });
});

describe('tollgate config schema', () => {
  it('prints a draft-07 JSON Schema of the config and exits 0', async () => {
    const r = await tollgate(['config', 'schema']);
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.stdout) as {
      $schema: string;
      properties: Record<string, { description?: string }>;
    };
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['server', 'subgraphs', 'pool', 'ratelimit']),
    );
    expect(schema.properties.server?.description).toBe('The HTTP endpoint.');
  });
});

describe('tollgate compose, then tollgate serve on what it wrote', () => {
  it('composes the four sample services from their SDL files into a supergraph the gateway serves, on PORT', async () => {
    const out = write('supergraph.graphql', '');
    const r = await tollgate(['compose', '--config', sampleConfig(), '--output', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^tollgate: composed 4 subgraph\(s\) into /);
    const sdl = readFileSync(out, 'utf8');
    for (const s of SERVICES)
      expect(sdl).toMatch(new RegExp(`${s.toUpperCase()} @join__graph\\(name: "${s}"`));
    // stdout without --output: the same SDL
    expect((await tollgate(['compose', '--config', sampleConfig()])).stdout).toBe(sdl);

    // PORT is honoured above a config file's server.port
    const port = await freePort();
    const file = write('port.yaml', 'server:\n  port: 1\n  host: 127.0.0.1\n');
    const gateway = spawnGateway(['--supergraph', out, '--config', file], { PORT: String(port) });
    const url = await gateway.ready;
    expect(new URL(url).port).toBe(String(port));
    const typename = await gql(url, '{ __typename }');
    expect(typename.body.data).toEqual({ __typename: 'Query' });
    // production defaults: introspection is off, and the refusal names Tollgate's key (issue 19)
    const introspection = await gql(url, '{ __schema { queryType { name } } }');
    expect(introspection.body.errors?.[0]?.message).toContain('server.introspection: true');
    expect(introspection.body.errors?.[0]?.message).not.toContain('ApolloServer');
    gateway.child.kill('SIGTERM');
    expect((await gateway.exit).code).toBe(0);
  });

  it('prints each composition error and exits 1', async () => {
    const a = write('a.graphql', PRODUCTS_SDL);
    const b = write(
      'b.graphql',
      PRODUCTS_SDL.replace('price: Int!', 'price: String!').replace(
        'type Query { topProducts(first: Int = 5): [Product!]! }',
        '',
      ),
    );
    const config = write(
      'conflict.yaml',
      `subgraphs:\n  - { name: a, replicas: [http://127.0.0.1:9/graphql], schemaFile: ${a} }\n  - { name: b, replicas: [http://127.0.0.1:9/graphql], schemaFile: ${b} }\n`,
    );
    const r = await tollgate(['compose', '-c', config]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const [first, ...errors] = r.stderr.trimEnd().split('\n');
    expect(first).toBe('tollgate: composition failed');
    expect(errors.length).toBeGreaterThanOrEqual(2);
    for (const line of errors) expect(line).toMatch(/^ {2}- [A-Z_]+: /);
    expect(errors).toContainEqual(expect.stringMatching(/FIELD_TYPE_MISMATCH: .*"Product\.price"/));
  });
});

describe('tollgate compose asking a running replica', () => {
  const SECRET = 'cli-compose-int-test-signing-secret-0123456789';
  let replica: TestSubgraph;
  beforeAll(async () => {
    replica = await startTestSubgraph(accounts, { deps: { signing: { secret: SECRET } } });
  });
  afterAll(() => replica?.close());
  const config = () =>
    write(
      'live.yaml',
      `subgraphs:\n  - { name: accounts, replicas: ['${replica.url}'] }\n  - { name: products, replicas: [http://127.0.0.1:9/graphql], schemaFile: ${ROOT}services/products/schema.graphql }\n`,
    );

  it('signs `{ _service { sdl } }` with TOLLGATE_SIGNING_SECRET and composes what the replica answers', async () => {
    const r = await tollgate(['compose', '--config', config()], { TOLLGATE_SIGNING_SECRET: SECRET });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`ACCOUNTS @join__graph(name: "accounts", url: "${replica.url}")`);
    expect(r.stdout).toMatch(/type User\b/);
    expect(r.stderr).toContain(`accounts (${replica.url})`);
  });

  it('without the secret, says the replica refused the unsigned request and how to sign, and exits 1', async () => {
    const r = await tollgate(['compose', '--config', config()]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^tollgate: subgraph accounts: no replica returned its SDL\n {2}- .* answered 401/,
    );
    expect(r.stderr).toContain('TOLLGATE_SIGNING_SECRET=$(cat .tollgate/signing-secret)');
  });
});
