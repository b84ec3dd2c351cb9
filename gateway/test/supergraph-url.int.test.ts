// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} is the config syntax under test, not a template
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { composeSupergraph, createGateway, type Gateway, loadConfig } from '../src/index.ts';
import {
  gql,
  PRODUCTS_SDL,
  productsResolvers,
  startTestSubgraph,
  type TestSubgraph,
  tempFiles,
} from './helpers.ts';

// A supergraph registry stand-in: serves `body` with an ETag, answers 304 to a matching If-None-Match,
// and can be told to fail (500), hang, or serve something that is not a supergraph.
interface Registry {
  url: string;
  body: string;
  mode: 'ok' | '500' | 'hang';
  /** Per request: the status answered and the headers received. */
  log: { status: number; headers: IncomingHttpHeaders }[];
  close(): Promise<void>;
}

async function startRegistry(body: string, token: string): Promise<Registry> {
  const registry = { body, mode: 'ok', log: [] } as unknown as Registry;
  const server: Server = createServer((req, res) => {
    const answer = (status: number, text = '', headers: Record<string, string> = {}) => {
      registry.log.push({ status, headers: req.headers });
      res.writeHead(status, headers).end(text);
    };
    if (registry.mode === 'hang') return void registry.log.push({ status: 0, headers: req.headers });
    if (req.headers.authorization !== `Bearer ${token}`) return answer(401, 'who are you?');
    if (registry.mode === '500') return answer(500, 'registry down');
    const etag = `"${createHash('sha256').update(registry.body).digest('hex').slice(0, 16)}"`;
    if (req.headers['if-none-match'] === etag) return answer(304, '', { etag });
    answer(200, registry.body, { etag, 'content-type': 'text/plain' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  registry.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphs/main/supergraph.graphql`;
  registry.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return registry;
}

function recordingLogger() {
  const lines: { level: string; message: string; fields: Record<string, unknown> }[] = [];
  const at =
    (level: string) =>
    (message: string, fields: Record<string, unknown> = {}) =>
      void lines.push({ level, message, fields });
  return { lines, logger: { info: at('info'), warn: at('warn'), error: at('error') } };
}

const eventually = async (what: () => Promise<boolean> | boolean, label: string, ms = 10_000) => {
  const t0 = Date.now();
  while (!(await what())) {
    if (Date.now() - t0 > ms) throw new Error(`${label} did not happen within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

const PRODUCTS_V2 = PRODUCTS_SDL.replace('price: Int!', 'price: Int! weight: Int!');
const files = tempFiles('supergraph-url');
const started: TestSubgraph[] = [];
const registries: Registry[] = [];
const gateways: Gateway[] = [];
afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close(100)));
  await Promise.all([...started.map((s) => s.stop()), ...registries.map((r) => r.close())]);
});

describe('supergraph.url', () => {
  it('polls with If-None-Match, swaps a changed body, and keeps the last good one through a 500, a hang and an invalid SDL', async () => {
    const v1 = await startTestSubgraph(PRODUCTS_SDL, productsResolvers);
    const v2 = await startTestSubgraph(PRODUCTS_V2, {
      ...productsResolvers,
      Product: { ...(productsResolvers.Product as object), weight: () => 7 },
    });
    started.push(v1, v2);
    const sdlV1 = composeSupergraph([{ name: 'products', url: v1.url, sdl: PRODUCTS_SDL }]);
    const sdlV2 = composeSupergraph([{ name: 'products', url: v2.url, sdl: PRODUCTS_V2 }]);
    const registry = await startRegistry(sdlV1, 'reg-token');
    registries.push(registry);

    // The config as a user writes it: the token comes from the environment through ${VAR}.
    const configFile = files.write(
      'gateway.config.yaml',
      [
        'server: { port: 0, host: 127.0.0.1 }',
        'ratelimit: { enabled: false }',
        'supergraph:',
        `  url: ${registry.url}?key=secret-in-query`,
        '  pollIntervalMs: 100',
        '  timeoutMs: 300',
        '  headers:',
        '    authorization: Bearer ${REGISTRY_TOKEN}',
      ].join('\n'),
    );
    const config = loadConfig({ env: { GATEWAY_CONFIG: configFile, REGISTRY_TOKEN: 'reg-token' } });
    const { lines, logger } = recordingLogger();
    const gateway = await createGateway({ config, logger });
    gateways.push(gateway);
    const url = await gateway.listen();
    const ready = async () => {
      const res = await fetch(`${gateway.adminUrl}/health/ready`);
      const body = (await res.json()) as {
        ready: boolean;
        supergraph: {
          source: string;
          url: string;
          reloads: number;
          failures: number;
          lastError: string | null;
        };
      };
      return { status: res.status, ready: body.ready, ...body.supergraph };
    };
    const weight = async () => {
      const r = await gql(url, '{ topProducts(first: 1) { weight } }');
      return (r.body.data as { topProducts: { weight: number }[] } | null | undefined)?.topProducts[0]
        ?.weight;
    };

    expect((await gql(url, '{ topProducts(first: 1) { name } }')).body.data).toEqual({
      topProducts: [{ name: 'Product 1' }],
    });
    expect(await ready()).toMatchObject({
      status: 200,
      ready: true,
      source: 'url',
      url: registry.url, // no query string: tokens live there
      reloads: 0,
      lastError: null,
    });

    // 1. Unchanged: every poll is a conditional GET answered 304, and nothing is swapped.
    await eventually(() => registry.log.filter((r) => r.status === 304).length >= 3, 'three 304s');
    const conditional = registry.log.filter((r) => r.status === 304);
    expect(conditional[0]!.headers['if-none-match']).toMatch(/^"[0-9a-f]{16}"$/);
    expect(registry.log.every((r) => r.headers.authorization === 'Bearer reg-token')).toBe(true);
    expect((await ready()).reloads).toBe(0);

    // 2. Changed: the new body is swapped in as a changed file would be.
    registry.body = sdlV2;
    await eventually(async () => (await weight()) === 7, 'the new field');
    expect(await ready()).toMatchObject({ ready: true, reloads: 1, lastError: null });

    // 3. The registry fails: the last good supergraph keeps serving, readiness says why, one log line.
    registry.mode = '500';
    await eventually(async () => (await ready()).lastError !== null, 'the 500 in readiness');
    const failing = registry.log.length;
    await eventually(() => registry.log.length >= failing + 3, 'three more polls');
    expect(await ready()).toMatchObject({
      status: 200,
      ready: true,
      lastError: `supergraph ${registry.url}: answered 500`,
    });
    expect(await weight()).toBe(7);
    const refusals = () => lines.filter((l) => l.level === 'error' && /reload refused/.test(l.message));
    expect(refusals()).toHaveLength(1);

    // 4. It hangs: the fetch times out (supergraph.timeoutMs) and the same holds.
    registry.mode = 'hang';
    await eventually(
      async () => /no answer within 300 ms/.test((await ready()).lastError ?? ''),
      'the timeout',
    );
    expect(await weight()).toBe(7);

    // 5. It serves something that is not a supergraph: refused, still serving v2.
    registry.mode = 'ok';
    registry.body = 'type Query { hello: String }';
    await eventually(async () => /not a supergraph/.test((await ready()).lastError ?? ''), 'the refusal');
    expect(await weight()).toBe(7);
    expect(await ready()).toMatchObject({ ready: true, reloads: 1 });
    expect(refusals().map((l) => l.fields.error)).toEqual([
      `supergraph ${registry.url}: answered 500`,
      `supergraph ${registry.url}: no answer within 300 ms`,
      expect.stringMatching(/not a supergraph/),
    ]);

    // 6. Good again: swapped back to v1, and it says so once.
    registry.body = sdlV1;
    await eventually(async () => (await ready()).lastError === null, 'the recovery');
    const v1Again = await gql(url, '{ topProducts(first: 1) { weight } }');
    expect(v1Again.body.errors?.[0]?.message).toMatch(/Cannot query field "weight"/); // v1 has none
    expect((await ready()).reloads).toBe(2);
    expect(lines.filter((l) => l.message === 'supergraph source usable again')).toHaveLength(1);
  }, 30_000);

  it('at start-up waits with backoff until a first usable supergraph arrives, logging each new reason once', async () => {
    const v1 = await startTestSubgraph(PRODUCTS_SDL, productsResolvers);
    started.push(v1);
    const sdl = composeSupergraph([{ name: 'products', url: v1.url, sdl: PRODUCTS_SDL }]);
    const registry = await startRegistry(sdl, 't');
    registries.push(registry);
    registry.mode = '500';
    const config = loadConfig({
      env: {},
      base: {
        server: { port: 0, host: '127.0.0.1' },
        supergraph: { url: registry.url, headers: { authorization: 'Bearer t' }, watch: false },
      },
    });
    const { lines, logger } = recordingLogger();
    let created: Gateway | undefined;
    const creating = createGateway({ config, logger }).then((g) => {
      created = g;
      gateways.push(g);
      return g;
    });
    await eventually(() => registry.log.length >= 2, 'two failed fetches');
    expect(created).toBeUndefined(); // not serving: no supergraph yet
    registry.mode = 'ok';
    registry.body = 'type Query { hello: String }';
    await eventually(() => registry.log.some((r) => r.status === 200), 'an invalid body');
    registry.body = sdl;
    const gateway = await creating;
    const url = await gateway.listen();
    expect((await gql(url, '{ topProducts(first: 1) { upc } }')).body.data).toEqual({
      topProducts: [{ upc: '1' }],
    });
    const waits = lines.filter((l) => l.level === 'error');
    expect(waits.map((l) => l.fields.error)).toEqual([
      `supergraph ${registry.url}: answered 500`,
      expect.stringMatching(/not a supergraph/),
    ]);
    expect(waits[0]!.message).toMatch(/no supergraph yet/);
    expect(lines.filter((l) => l.message === 'supergraph loaded')).toHaveLength(1);
    // backoff: the waits between attempts grow
    const delays = waits.map((l) => l.fields.retryInMs as number);
    expect(delays[0]).toBeGreaterThanOrEqual(800);
    expect(delays[0]).toBeLessThanOrEqual(1_200);
  }, 30_000);
});
