import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { composeSupergraph, createGateway, loadConfig } from '../src/index.ts';
import {
  killGateways,
  PRODUCTS_SDL,
  productsResolvers,
  spawnGateway,
  startTestSubgraph,
  type TestSubgraph,
  tempFiles,
} from './helpers.ts';

// Issue 17: SIGTERM under load never answers a 5xx other than 503, and the process exits 0. The gateway
// runs as a real `tollgate` process under NODE_ENV=production: Apollo Server's own signal handler is
// off under NODE_ENV=test, so an in-process gateway would never show what it does.

const { dir } = tempFiles('shutdown');
afterEach(killGateways);

const RUNS = 10;
const CONNECTIONS = 8;
/** Per connection and run: a bound on the loop whatever happens. */
const MAX_REQUESTS = 400;

interface RunResult {
  statuses: Record<string, number>;
  /** Requests that got no answer (refused, reset): the client knows, and retries elsewhere. */
  errors: Record<string, number>;
  /** 503s that carried Retry-After and Connection: close, as the drain promises. */
  goodbyes: number;
  /** Answers served during the drain, each with Connection: close (the client opens no more requests on it). */
  closing: number;
  exit: number | null;
}

/** One run: a gateway, CONNECTIONS keep-alive loops, SIGTERM after a few answers, every answer counted. */
async function oneRun(supergraph: string): Promise<RunResult> {
  const gateway = spawnGateway(['--supergraph', supergraph, '--port', '0', '--host', '127.0.0.1'], {
    NODE_ENV: 'production',
    OTEL_SDK_DISABLED: 'true',
    LOG_LEVEL: 'warn',
  });
  const url = new URL(await gateway.ready);
  const pool = new Pool(url.origin, { connections: CONNECTIONS, pipelining: 1 });
  const statuses: Record<string, number> = {};
  const errors: Record<string, number> = {};
  let goodbyes = 0;
  let closing = 0;
  let answered = 0;
  let signalled = false;
  const body = JSON.stringify({ query: '{ topProducts(first: 3) { upc name price } }' });
  const loop = async () => {
    for (let i = 0; i < MAX_REQUESTS; i++) {
      try {
        const res = await pool.request({
          path: url.pathname,
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        await res.body.text();
        statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
        if (res.statusCode === 503 && res.headers['retry-after'] && res.headers.connection === 'close')
          goodbyes++;
        if (res.statusCode === 200 && res.headers.connection === 'close') closing++;
        answered++;
      } catch (error) {
        const code = (error as { code?: string }).code ?? 'error';
        errors[code] = (errors[code] ?? 0) + 1;
        // the listener is closed: nothing more will be served
        if (signalled && code === 'ECONNREFUSED') return;
        await sleep(5);
      }
    }
  };
  const loops = Array.from({ length: CONNECTIONS }, loop);
  while (answered < 40 && gateway.child.exitCode === null) await sleep(5);
  signalled = true;
  gateway.child.kill('SIGTERM');
  await Promise.all(loops);
  const { code } = await gateway.exit;
  await pool.destroy();
  return { statuses, errors, goodbyes, closing, exit: code };
}

describe('SIGTERM under load (NODE_ENV=production)', () => {
  let products: TestSubgraph;
  beforeAll(async () => {
    products = await startTestSubgraph(PRODUCTS_SDL, productsResolvers);
  });
  afterAll(() => products.stop());

  it(`answers no 5xx but 503 and exits 0, in ${RUNS} runs on keep-alive connections`, async () => {
    const file = join(dir, 'supergraph.graphql');
    writeFileSync(file, composeSupergraph([{ name: 'products', url: products.url, sdl: PRODUCTS_SDL }]));
    const results: RunResult[] = [];
    for (let run = 1; run <= RUNS; run++) {
      const r = await oneRun(file);
      results.push(r);
      console.log(
        `shutdown run ${run}: exit ${r.exit}, statuses ${JSON.stringify(r.statuses)}, served with connection: close ${r.closing}, 503 with retry-after+close ${r.goodbyes}, no answer ${JSON.stringify(r.errors)}`,
      );
    }
    const bad = results.flatMap((r) =>
      Object.keys(r.statuses).filter((s) => Number(s) >= 500 && Number(s) !== 503),
    );
    expect(bad).toEqual([]);
    expect(results.map((r) => r.exit)).toEqual(Array(RUNS).fill(0));
    // every run served real traffic before and during the drain
    for (const r of results) expect(r.statuses['200']).toBeGreaterThanOrEqual(40);
  }, 90_000);
});

describe('a request that reaches a gateway whose Apollo Server has stopped', () => {
  let products: TestSubgraph;
  beforeAll(async () => {
    products = await startTestSubgraph(PRODUCTS_SDL, productsResolvers);
  });
  afterAll(() => products.stop());

  it('gets 503 with Retry-After and Connection: close, never a 500', async () => {
    const gateway = await createGateway({
      config: loadConfig({
        env: {},
        base: {
          server: { port: 0, host: '127.0.0.1' },
          ratelimit: { enabled: false },
          subgraphs: [
            {
              name: 'products',
              replicas: [products.url],
              schemaFile: tempFiles('shutdown-gate').write('p.graphql', PRODUCTS_SDL),
            },
          ],
        },
      }),
    });
    await gateway.listen();
    await gateway.close(100);
    // a server of the caller's, still routing to the closed gateway
    const server = createServer((req, res) => void gateway.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ topProducts { upc } }' }),
      });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(res.headers.get('connection')).toBe('close');
      const body = (await res.json()) as { errors: { extensions: { code: string } }[] };
      expect(body.errors[0]!.extensions.code).toBe('OVERLOADED');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
