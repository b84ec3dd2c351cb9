import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { composeSupergraph } from '../src/index.ts';
import {
  gql,
  killGateways,
  PRODUCTS_SDL,
  productsResolvers,
  spawnGateway,
  startTestSubgraph,
  type TestSubgraph,
  tempFiles,
} from './helpers.ts';

const { dir } = tempFiles('cli');

afterEach(killGateways); // a failed assertion must not leave a gateway running

const run = (args: string[]) => spawnGateway(args);

describe('npx tollgate', () => {
  let products: TestSubgraph;
  beforeAll(async () => {
    products = await startTestSubgraph(PRODUCTS_SDL, productsResolvers);
  });
  afterAll(() => products.stop());

  it('fronts any subgraphs named in a supergraph file, starts in well under 5 s, and exits 0 on SIGTERM', async () => {
    const file = join(dir, 'supergraph.graphql');
    writeFileSync(file, composeSupergraph([{ name: 'products', url: products.url, sdl: PRODUCTS_SDL }]));
    const started = Date.now();
    const r = run(['--supergraph', file, '--port', '0', '--host', '127.0.0.1']);
    const url = await r.ready;
    const startup = Date.now() - started;
    // well under 5 s on a quiet machine (see the README); the bound is loose because CI runs test files in parallel
    console.log(`gateway CLI ready in ${startup} ms`);
    expect(startup).toBeLessThan(10_000);
    const { status, body } = await gql(url, '{ topProducts(first: 2) { upc } }');
    expect(status).toBe(200);
    expect(body.data).toEqual({ topProducts: [{ upc: '1' }, { upc: '2' }] });
    r.child.kill('SIGTERM');
    expect((await r.exit).code).toBe(0);
  });

  it('refuses to start on a subgraph SDL that does not compose, naming the error', async () => {
    const a = join(dir, 'a.graphql');
    const b = join(dir, 'b.graphql');
    writeFileSync(a, PRODUCTS_SDL);
    writeFileSync(
      b,
      PRODUCTS_SDL.replace('price: Int!', 'price: String!').replace(
        'type Query { topProducts(first: Int = 5): [Product!]! }',
        '',
      ),
    );
    const config = join(dir, 'bad.yaml');
    writeFileSync(
      config,
      `subgraphs:\n  - name: a\n    replicas: [http://127.0.0.1:9/graphql]\n    schemaFile: ${a}\n  - name: b\n    replicas: [http://127.0.0.1:9/graphql]\n    schemaFile: ${b}\n`,
    );
    const { code, stderr } = await run(['--config', config, '--port', '0']).exit;
    expect(code).toBe(1);
    expect(stderr).toMatch(/composition failed/);
    expect(stderr).toMatch(/Product\.price/);
  });

  it('refuses a bad config value with one line naming the key', async () => {
    const config = join(dir, 'badkey.yaml');
    writeFileSync(config, 'server:\n  port: not-a-port\n');
    const { code, stderr } = await run(['--config', config]).exit;
    expect(code).toBe(2);
    expect(stderr).toMatch(/server\.port: expected number/);
  });

  it('says what is missing when given no supergraph', async () => {
    const { code, stderr } = await run(['--port', '0']).exit;
    expect(code).toBe(1);
    expect(stderr).toMatch(/--supergraph/);
  });
});
