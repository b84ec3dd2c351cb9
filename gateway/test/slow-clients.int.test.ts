import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, createGateway, type Gateway, loadConfig } from '../src/index.ts';
import {
  gql,
  PRODUCTS_SDL,
  productsResolvers,
  startTestSubgraph,
  type TestSubgraph,
  tempFiles,
} from './helpers.ts';

// Issue 17: a client that trickles its headers or its body is cut (408) within server.headersTimeoutMs /
// server.requestTimeoutMs, an idle keep-alive connection within server.keepAliveTimeoutMs, oversized
// headers get 431, and valid requests keep being served meanwhile. Short timeouts here; the defaults are
// in the config docs.
const HEADERS_MS = 500;
const REQUEST_MS = 1_000;
const KEEP_ALIVE_MS = 300;

const files = tempFiles('slow-clients');
let products: TestSubgraph;
let gateway: Gateway;
let url: URL;

beforeAll(async () => {
  const resolvers = {
    ...productsResolvers,
    Query: {
      // first: 7 answers after longer than the request timeout: the response must not be cut by it
      topProducts: async (parent: unknown, args: { first: number }, ...rest: unknown[]) => {
        if (args.first === 7) await sleep(REQUEST_MS + 500);
        const inner = productsResolvers.Query as Record<string, (...a: unknown[]) => unknown>;
        return inner.topProducts!(parent, args, ...rest);
      },
    },
  };
  products = await startTestSubgraph(PRODUCTS_SDL, resolvers);
  gateway = await createGateway({
    config: loadConfig({
      env: {},
      base: {
        server: {
          port: 0,
          host: '127.0.0.1',
          headersTimeoutMs: HEADERS_MS,
          requestTimeoutMs: REQUEST_MS,
          keepAliveTimeoutMs: KEEP_ALIVE_MS,
          maxHeaderBytes: 4_096,
        },
        ratelimit: { enabled: false },
        subgraphs: [
          { name: 'products', replicas: [products.url], schemaFile: files.write('p.graphql', PRODUCTS_SDL) },
        ],
      },
    }),
  });
  url = new URL(await gateway.listen());
});
afterAll(async () => {
  await gateway?.close(100);
  await products?.stop();
});

/** A raw connection that writes `head`, then `drip` one byte per tick until the server closes it. */
async function trickle(head: string, drip: string, tickMs = 100) {
  const socket: Socket = connect(Number(url.port), '127.0.0.1');
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  const started = Date.now();
  let received = '';
  socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
  socket.on('error', () => {});
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - started)));
  socket.write(head);
  let i = 0;
  const timer = setInterval(() => {
    if (!socket.destroyed) socket.write(drip[i++ % drip.length]!);
  }, tickMs);
  // bounded: 10 s of trickling at most, whatever the server does
  const ms = await Promise.race([closed, sleep(10_000).then(() => -1)]);
  clearInterval(timer);
  socket.destroy();
  return { ms, status: /^HTTP\/1\.1 (\d{3})/.exec(received)?.[1] };
}

/** Valid requests, one after another, while `during` runs: all must be answered 200. */
async function servedMeanwhile(during: Promise<unknown>) {
  const statuses: number[] = [];
  let done = false;
  void during.finally(() => (done = true));
  while (!done && statuses.length < 200) {
    statuses.push((await gql(url.href, '{ topProducts(first: 1) { upc } }')).status);
    await sleep(20);
  }
  return statuses;
}

describe('slow clients', () => {
  it('cuts a client that trickles its headers with 408 within server.headersTimeoutMs', async () => {
    const cut = trickle(`POST ${url.pathname} HTTP/1.1\r\nHost: x\r\nX-Slow: `, 'abcdefgh');
    const [r, served] = await Promise.all([cut, servedMeanwhile(cut)]);
    console.log(
      `headers trickled: cut after ${r.ms} ms (headersTimeoutMs ${HEADERS_MS}), status ${r.status}`,
    );
    expect(r.status).toBe('408');
    expect(r.ms).toBeGreaterThanOrEqual(HEADERS_MS - 50);
    // the timeout plus node's check interval (a quarter of it) and slack for a loaded machine
    expect(r.ms).toBeLessThan(HEADERS_MS * 4);
    expect(served.length).toBeGreaterThan(0);
    expect(served.every((s) => s === 200)).toBe(true);
  });

  it('cuts a client that trickles its body with 408 within server.requestTimeoutMs', async () => {
    const head = `POST ${url.pathname} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n`;
    const cut = trickle(head, ' ');
    const [r, served] = await Promise.all([cut, servedMeanwhile(cut)]);
    console.log(`body trickled: cut after ${r.ms} ms (requestTimeoutMs ${REQUEST_MS}), status ${r.status}`);
    expect(r.status).toBe('408');
    expect(r.ms).toBeGreaterThanOrEqual(REQUEST_MS - 50);
    expect(r.ms).toBeLessThan(REQUEST_MS * 4);
    expect(served.length).toBeGreaterThan(0);
    expect(served.every((s) => s === 200)).toBe(true);
  });

  it('does not bound the response by server.requestTimeoutMs', async () => {
    const started = Date.now();
    const { status, body } = await gql(url.href, '{ topProducts(first: 7) { upc } }');
    expect(Date.now() - started).toBeGreaterThan(REQUEST_MS);
    expect(status).toBe(200);
    expect(body.data?.topProducts).toHaveLength(7);
  });

  it('closes an idle keep-alive connection after server.keepAliveTimeoutMs', async () => {
    const r = await trickle(`GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n`, '', 1_000_000);
    console.log(`idle keep-alive: closed after ${r.ms} ms (keepAliveTimeoutMs ${KEEP_ALIVE_MS})`);
    expect(r.status).toBe('200');
    expect(r.ms).toBeGreaterThanOrEqual(KEEP_ALIVE_MS - 50);
    // node closes an idle keep-alive socket 1 s after the Keep-Alive timeout it advertises, so that a
    // client's request sent at the very end does not race the close
    expect(r.ms).toBeLessThan(KEEP_ALIVE_MS + 3_000);
  });

  it('answers 431 to headers over server.maxHeaderBytes, and keeps serving', async () => {
    const { status } = await gql(url.href, '{ topProducts(first: 1) { upc } }', {
      headers: { 'x-big': 'a'.repeat(8_000) },
    }).catch(async () => {
      // undici may see the close before the answer: read it over a raw socket instead
      const r = await trickle(
        `GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(8_000)}\r\n\r\n`,
        '',
      );
      return { status: Number(r.status) };
    });
    expect(status).toBe(431);
    expect((await gql(url.href, '{ topProducts(first: 1) { upc } }')).status).toBe(200);
  });

  it('3,000 slow sockets at once: each closed within its timeout, valid requests keep their latency', async () => {
    const latencies = async (n: number) => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        const { status } = await gql(url.href, '{ topProducts(first: 1) { upc } }');
        out.push(status === 200 ? performance.now() - t0 : Number.POSITIVE_INFINITY);
      }
      return out.sort((a, b) => a - b);
    };
    const p = (sorted: number[], q: number) =>
      sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
    const before = await latencies(100);
    // half trickle their headers, half their body (one byte every 400 ms: a slowloris, not a flood)
    const heads = `POST ${url.pathname} HTTP/1.1\r\nHost: x\r\nX-Slow: `;
    const bodies = `POST ${url.pathname} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n`;
    const sockets: Promise<{ kind: 'headers' | 'body'; ms: number; status: string | undefined }>[] = [];
    for (let i = 0; i < 3_000; i++) {
      const kind = i % 2 === 0 ? 'headers' : 'body';
      sockets.push(
        trickle(kind === 'headers' ? heads : bodies, kind === 'headers' ? 'ab' : ' ', 400).then((r) => ({
          kind,
          ...r,
        })),
      );
      // connect in batches, under the listen backlog
      if (i % 250 === 249) await sleep(20);
    }
    const during = await latencies(100);
    const results = await Promise.all(sockets);
    const after = await latencies(20);
    const worst = (kind: string) => Math.max(...results.filter((r) => r.kind === kind).map((r) => r.ms));
    const statuses = new Map<string, number>();
    for (const r of results)
      statuses.set(`${r.kind} ${r.status}`, (statuses.get(`${r.kind} ${r.status}`) ?? 0) + 1);
    console.log(
      `3,000 slow sockets: closed ${JSON.stringify(Object.fromEntries(statuses))}; slowest headers close ${worst('headers')} ms (timeout ${HEADERS_MS}), body ${worst('body')} ms (timeout ${REQUEST_MS}); valid requests p50/p99 before ${p(before, 0.5).toFixed(1)}/${p(before, 0.99).toFixed(1)} ms, during ${p(during, 0.5).toFixed(1)}/${p(during, 0.99).toFixed(1)} ms`,
    );
    // every trickling socket was answered 408 and closed, within its timeout plus node's check interval
    // and slack for a loaded machine (never the 10 s bound of trickle())
    expect(results.every((r) => r.status === '408' && r.ms > 0)).toBe(true);
    expect(worst('headers')).toBeLessThan(HEADERS_MS * 6);
    expect(worst('body')).toBeLessThan(REQUEST_MS * 4);
    // valid requests all served, their median within a few times the unloaded one
    expect(during.every(Number.isFinite)).toBe(true);
    expect(after.every(Number.isFinite)).toBe(true);
    expect(p(during, 0.5)).toBeLessThan(p(before, 0.5) * 4 + 20);
  }, 60_000);

  it('refuses a headers timeout longer than the request timeout, naming the key', () => {
    expect(() =>
      loadConfig({ env: {}, base: { server: { headersTimeoutMs: 40_000, requestTimeoutMs: 30_000 } } }),
    ).toThrow(ConfigError);
    expect(() =>
      loadConfig({ env: {}, base: { server: { headersTimeoutMs: 40_000, requestTimeoutMs: 30_000 } } }),
    ).toThrow(/server\.headersTimeoutMs/);
  });
});
