// `server.workers`: one gateway process per core behind one port (node:cluster).
import { execFileSync } from 'node:child_process';
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

const { dir } = tempFiles('cluster');
afterEach(killGateways);

/** The gateway worker processes of a primary (not, say, the esbuild service tsx starts). */
function childrenOf(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid), '-f', 'tollgate.js'], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return []; // pgrep exits 1 when there are none
  }
}

async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return check();
}

describe('gateway workers (server.workers)', () => {
  let products: TestSubgraph;
  let supergraph: string;
  beforeAll(async () => {
    products = await startTestSubgraph(PRODUCTS_SDL, productsResolvers);
    supergraph = join(dir, 'supergraph.graphql');
    writeFileSync(
      supergraph,
      composeSupergraph([{ name: 'products', url: products.url, sdl: PRODUCTS_SDL }]),
    );
  });
  afterAll(() => products.stop());

  it('serves from two workers on one port, replaces a dead one, and stops them all with exit 0', async () => {
    const r = spawnGateway(['--supergraph', supergraph, '--port', '0', '--host', '127.0.0.1'], {
      GATEWAY_SERVER_WORKERS: '2',
    });
    let stdout = '';
    r.child.stdout!.on('data', (d: Buffer) => (stdout += d));
    const url = await r.ready;
    const primary = r.child.pid!;
    const workers = childrenOf(primary);
    expect(workers).toHaveLength(2);

    const answers = await Promise.all(
      Array.from({ length: 40 }, () => gql(url, '{ topProducts(first: 2) { upc } }')),
    );
    expect(
      answers.every(
        (a) =>
          a.status === 200 && JSON.stringify(a.body.data) === '{"topProducts":[{"upc":"1"},{"upc":"2"}]}',
      ),
    ).toBe(true);

    // a worker killed outright is replaced (clients with a connection to it see that connection drop)
    process.kill(workers[0]!, 'SIGKILL');
    const started = Date.now();
    expect(
      await until(() => {
        const now = childrenOf(primary);
        return now.length === 2 && !now.includes(workers[0]!);
      }, 20_000),
    ).toBe(true);
    console.log(`[cluster] a killed worker was replaced in ${Date.now() - started} ms`);
    const fresh = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', connection: 'close' },
      body: JSON.stringify({ query: '{ topProducts(first: 1) { upc } }' }),
    });
    expect(fresh.status).toBe(200);

    // one ready line for the whole process, naming the workers
    expect(stdout.match(/gateway ready at/g)).toHaveLength(1);
    expect(stdout).toMatch(/\(2 workers, primary pid \d+\)/);

    const alive = childrenOf(primary);
    r.child.kill('SIGTERM');
    const stopAt = Date.now();
    const exit = await r.exit;
    console.log(`[cluster] stopped in ${Date.now() - stopAt} ms`);
    expect(exit.stderr).toContain('exited (SIGKILL); starting another');
    expect(exit.code).toBe(0);
    expect(alive.every((pid) => !isAlive(pid))).toBe(true);
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
