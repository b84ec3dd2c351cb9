import { execFileSync, spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import { composeSupergraph, createGateway, type Gateway, loadConfig } from '@tollgate/gateway';
import {
  createDb,
  type Db,
  listServices,
  migrate,
  type Subgraph,
  type SubgraphDeps,
  seed,
} from '@tollgate/kit';
import { createTestDatabase, type TestDatabase } from '@tollgate/kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createService,
  ServiceNameError,
  serviceNames,
  validateServiceName,
} from '../../scripts/service-new.ts';
import * as products from '../../services/products/src/server.ts';

// `npm run service:new` into a temporary services folder inside the repo (so the new service resolves
// @tollgate/kit and vitest like a real one), then: it composes with the four samples, its own tests pass
// and typecheck, and a query through the gateway reaches it.
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NAME = 'gift-cards';
const { type, field } = serviceNames(NAME);
const SIGNING = { secret: 'service-new-e2e-signing-secret-0123456789' };

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<Run> {
  const child = spawn(process.execPath, args, {
    cwd: options.cwd ?? ROOT,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 100_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

/** The environment of a child vitest: ours minus what marks a process as a vitest worker. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('VITEST') && k !== 'NODE_OPTIONS') env[k] = v;
  return { ...env, NO_COLOR: '1' };
}

interface ScaffoldedService {
  definition: { name: string; dir: string };
  createSubgraph(deps: SubgraphDeps): Subgraph;
}

describe('npm run service:new', () => {
  const work = join(ROOT, '.tollgate', `scaffold-test-${process.pid}`);
  const servicesDir = join(work, 'services');
  const dir = join(servicesDir, NAME);
  let cli: Run;
  /** `npm run service:new -- <NAME> --dir <servicesDir>`, as the dev command runs it. */
  const scaffold = () =>
    run([
      '--conditions=source',
      '--import',
      'tsx',
      join(ROOT, 'scripts', 'service-new.ts'),
      NAME,
      '--dir',
      servicesDir,
    ]);

  beforeAll(async () => {
    mkdirSync(servicesDir, { recursive: true });
    cli = await scaffold();
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('writes the service and prints next steps', () => {
    expect(cli.stderr).toBe('');
    expect(cli.code).toBe(0);
    for (const file of [
      'package.json',
      'schema.graphql',
      'seed.sql',
      'migrations/001_init.sql',
      'src/server.ts',
      'src/resolvers.ts',
      'src/loaders.ts',
      'src/main.ts',
      `test/${NAME}.int.test.ts`,
    ]) {
      expect(existsSync(join(dir, file)), file).toBe(true);
    }
    expect(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))).toMatchObject({
      name: `@tollgate/service-${NAME}`,
      dependencies: { '@tollgate/kit': '*' },
    });
    expect(readFileSync(join(dir, 'migrations/001_init.sql'), 'utf8')).toContain(
      'CREATE SCHEMA IF NOT EXISTS gift_cards;',
    );
    expect(readFileSync(join(dir, 'seed.sql'), 'utf8')).toContain('{{products}}');
    // No template token survives.
    for (const file of [
      'schema.graphql',
      'src/server.ts',
      'src/resolvers.ts',
      'src/loaders.ts',
      `test/${NAME}.int.test.ts`,
    ]) {
      expect(readFileSync(join(dir, file), 'utf8'), file).not.toMatch(/__[A-Z]+__/);
    }
    expect(cli.stdout).toContain('npm install');
    expect(cli.stdout).toContain('npm start');
    expect(cli.stdout).toContain(`${field}Items`);
    // listServices is how the launcher finds it: no list to edit.
    expect(listServices(servicesDir).map((s) => s.name)).toEqual([NAME]);
  });

  it('refuses invalid, reserved and existing names, and the CLI exits 2 with the reason', async () => {
    for (const bad of ['Gift', '1st', 'gift_cards', 'gift--cards', '-x', 'x-', '', 'a'.repeat(41)]) {
      expect(() => validateServiceName(bad, servicesDir), JSON.stringify(bad)).toThrow(ServiceNameError);
    }
    expect(() => validateServiceName('kit', servicesDir)).toThrow(/reserved/);
    expect(() => validateServiceName(NAME, servicesDir)).toThrow(/already exists/);
    expect(() => validateServiceName('products')).toThrow(/already exists/);
    expect(() => createService({ name: 'kit', servicesDir })).toThrow(ServiceNameError);
    const refused = await scaffold();
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/already exists/);
    expect(listServices(servicesDir).map((s) => s.name)).toEqual([NAME]);
  });

  it('composes with the four sample subgraphs', () => {
    const samples = listServices();
    expect(samples.map((s) => s.name)).toEqual(
      expect.arrayContaining(['accounts', 'inventory', 'products', 'reviews']),
    );
    const sdl = (d: string) => readFileSync(join(d, 'schema.graphql'), 'utf8');
    const supergraph = composeSupergraph([
      ...samples.map((s) => ({ name: s.name, url: `http://${s.name}:4001/graphql`, sdl: sdl(s.dir) })),
      { name: NAME, url: `http://${NAME}:4001/graphql`, sdl: sdl(dir) },
    ]);
    expect(supergraph).toMatch(/GIFT_CARDS @join__graph\(name: "gift-cards"/);
    expect(supergraph).toMatch(new RegExp(`type ${type}Item\\b`));
    expect(supergraph).toMatch(
      new RegExp(`${field}Items: \\[${type}Item!\\]! @join__field\\(graph: GIFT_CARDS\\)`),
    );
  });

  it('passes its own tests and typechecks', { timeout: 240_000 }, async () => {
    // The repo's vitest projects only look under services/*/test; this config runs the new service's
    // tests the way the integration project would (same graphql pinning as vitest.config.ts).
    writeFileSync(
      join(work, 'vitest.config.mts'),
      `import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';
const graphql = createRequire(import.meta.url).resolve('graphql');
export default defineConfig({
  resolve: { alias: [{ find: /^graphql$/, replacement: graphql }] },
  test: { include: ['services/*/test/**/*.int.test.ts'], testTimeout: 60_000, hookTimeout: 60_000 },
});
`,
    );
    writeFileSync(
      join(work, 'tsconfig.json'),
      JSON.stringify({
        extends: join(ROOT, 'tsconfig.base.json'),
        include: [`services/${NAME}/src`, `services/${NAME}/test`],
      }),
    );
    const vitest = join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const [tests, types] = await Promise.all([
      run(
        [vitest, 'run', '--root', work, '--config', join(work, 'vitest.config.mts'), '--reporter', 'verbose'],
        {
          cwd: work,
          env: childEnv(),
          timeoutMs: 200_000,
        },
      ),
      run([tsc, '-p', join(work, 'tsconfig.json'), '--noEmit'], { cwd: work, timeoutMs: 200_000 }),
    ]);
    expect(tests.code, `${tests.stdout}\n${tests.stderr}`).toBe(0);
    const summary = stripVTControlCharacters(tests.stdout);
    // Every test passed: none failed or skipped.
    expect(summary).toMatch(/Tests\s+(\d+) passed \(\1\)/);
    expect(types.code, types.stdout + types.stderr).toBe(0);
  });

  describe('behind the gateway', () => {
    let database: TestDatabase;
    let db: Db;
    let subgraphs: Subgraph[] = [];
    let created: Subgraph;
    let gateway: Gateway;
    let url: string;

    beforeAll(async () => {
      const service = (await import(pathToFileURL(join(dir, 'src', 'server.ts')).href)) as ScaffoldedService;
      database = await createTestDatabase();
      db = createDb(database.url);
      for (const s of [products.definition, service.definition]) {
        await migrate(db, s);
        await seed(db, s, 'small');
      }
      created = service.createSubgraph({ db, signing: SIGNING });
      subgraphs = [products.createSubgraph({ db, signing: SIGNING }), created];
      const [productsUrl, createdUrl] = await Promise.all(subgraphs.map((s) => s.listen()));
      const config = loadConfig({
        cwd: work,
        env: {},
        base: {
          server: { port: 0, host: '127.0.0.1' },
          subgraphs: [
            {
              name: 'products',
              schemaFile: join(ROOT, 'services', 'products', 'schema.graphql'),
              replicas: [productsUrl],
            },
            { name: NAME, schemaFile: join(dir, 'schema.graphql'), replicas: [createdUrl] },
          ],
          auth: { signing: SIGNING },
        },
      });
      gateway = await createGateway({ config });
      url = await gateway.listen();
    });
    afterAll(async () => {
      await gateway?.close(0);
      await Promise.all(subgraphs.map((s) => s.close()));
      await db?.close();
      await database?.close();
    });

    it('answers a query that joins products with the new subgraph', async () => {
      const before = created.requests;
      const query = `{
        topProducts(first: 3) { upc name ${field}Items { id name product { upc } } }
        ${field}Items(first: 2) { id product { upc name } }
      }`;
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query }),
      });
      const body = (await res.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
      expect(res.status, JSON.stringify(body)).toBe(200);
      expect(body.errors).toBeUndefined();

      const productRows = await db.query<{ upc: string; name: string }>(
        'SELECT upc, name FROM products.products ORDER BY upc',
      );
      const nameOf = new Map(productRows.map((p) => [p.upc, p.name]));
      const items = await db.query<{ id: string; product_upc: string; name: string }>(
        'SELECT id, product_upc, name FROM gift_cards.items ORDER BY id',
      );
      expect(body.data).toEqual({
        topProducts: productRows.slice(0, 3).map((p) => ({
          upc: p.upc,
          name: p.name,
          [`${field}Items`]: items
            .filter((i) => i.product_upc === p.upc)
            .map((i) => ({ id: i.id, name: i.name, product: { upc: p.upc } })),
        })),
        [`${field}Items`]: items
          .slice(0, 2)
          .map((i) => ({ id: i.id, product: { upc: i.product_upc, name: nameOf.get(i.product_upc) } })),
      });
      // One fetch for the root field, one for the products' items.
      expect(created.requests - before).toBeGreaterThanOrEqual(2);
      expect((await gateway.readiness()).subgraphs[NAME]?.ready).toBe(true);
    });
  });
});

/**
 * A copy of this repo (its tracked and new files) in a temporary folder, with node_modules linked in:
 * every package links to ours, but the workspace links (@tollgate/*) point into the copy, so code there
 * resolves @tollgate/kit and @tollgate/gateway to the copy's own folders.
 */
function copyRepo(): string {
  const copy = mkdtempSync(join(tmpdir(), 'tollgate-service-new-'));
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\0')
    .filter((f) => f && existsSync(join(ROOT, f)));
  for (const f of files) {
    mkdirSync(dirname(join(copy, f)), { recursive: true });
    cpSync(join(ROOT, f), join(copy, f));
  }
  const linkModules = (from: string, to: string) => {
    mkdirSync(to, { recursive: true });
    for (const entry of readdirSync(from, { withFileTypes: true })) {
      if (entry.name === '@tollgate') {
        mkdirSync(join(to, entry.name), { recursive: true });
        // relative links (../../services/kit): the same text lands inside the copy
        for (const pkg of readdirSync(join(from, entry.name)))
          symlinkSync(readlinkSync(join(from, entry.name, pkg)), join(to, entry.name, pkg));
      } else symlinkSync(join(from, entry.name), join(to, entry.name));
    }
  };
  linkModules(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
  for (const nested of ['gateway', 'services/kit', 'test'])
    if (existsSync(join(ROOT, nested, 'node_modules')))
      symlinkSync(join(ROOT, nested, 'node_modules'), join(copy, nested, 'node_modules'));
  return copy;
}

// `npm run service:new -- x && npm test`: the new service brings the Compose, Kubernetes and lock-file
// entries that test/e2e/infra.e2e.ts requires of every service, so that test passes on the result.
describe('npm run service:new in a copy of the repo', () => {
  let copy: string | undefined;
  afterAll(() => {
    if (copy) rmSync(copy, { recursive: true, force: true });
  });

  it('adds the deployment entries, and the infra checks pass with the new service', {
    timeout: 240_000,
  }, async () => {
    copy = copyRepo();
    // a name no service in the copy has yet (the checkout may hold a scaffolded `x` of its own)
    const taken = new Set(listServices(join(copy, 'services')).map((s) => s.name));
    let name = 'x';
    while (taken.has(name)) name += 'x';
    const created = await run(
      ['--conditions=source', '--import', 'tsx', join(copy, 'scripts', 'service-new.ts'), name],
      {
        cwd: copy,
        env: { ...childEnv(), INIT_CWD: copy },
      },
    );
    expect(created.code, created.stderr).toBe(0);
    expect(listServices(join(copy, 'services')).map((s) => s.name)).toContain(name);
    for (const file of [
      'infra/docker-compose.yml',
      'infra/compose/gateway.config.yaml',
      'infra/k8s/base/gateway.config.yaml',
      'infra/k8s/base/kustomization.yaml',
    ])
      expect(readFileSync(join(copy, file), 'utf8'), file).toContain(
        `# ${name}: added by npm run service:new`,
      );
    expect(existsSync(join(copy, `infra/k8s/base/subgraphs/${name}.yaml`))).toBe(true);
    const lock = JSON.parse(readFileSync(join(copy, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, unknown>;
    };
    expect(lock.packages[`services/${name}`]).toMatchObject({ name: `@tollgate/service-${name}` });
    // a running npm start picks the service up by itself: no advice to restart it
    expect(created.stdout).toContain('composes it in without a restart');
    expect(created.stdout).toContain('the port npm start printed');

    const infra = await run(
      [join(copy, 'node_modules', 'vitest', 'vitest.mjs'), 'run', 'test/e2e/infra.e2e.ts'],
      { cwd: copy, env: childEnv(), timeoutMs: 200_000 },
    );
    const out = stripVTControlCharacters(infra.stdout);
    expect(infra.code, `${out}\n${infra.stderr}`).toBe(0);
    expect(out).toMatch(/Tests\s+(\d+) passed \(\1\)/);
  });
});
