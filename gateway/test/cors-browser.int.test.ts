// server.cors in a real browser: headless Chromium (the system's, driven by playwright-core) opens a page
// on http://127.0.0.1:<page port> whose script calls gateways on other ports with
// fetch(…, { credentials: 'include' }) and a JSON body (so a real preflight runs first). The browser, not
// this test, decides what the page may read.
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type Gateway, type GatewayConfigInput, loadConfig } from '../src/index.ts';
import {
  PRODUCTS_SDL,
  productsResolvers,
  startTestSubgraph,
  type TestSubgraph,
  tempFiles,
} from './helpers.ts';

// CHROMIUM_PATH, when set, is the only binary tried (an empty or missing one skips the test).
const CANDIDATES =
  process.env.CHROMIUM_PATH !== undefined
    ? [process.env.CHROMIUM_PATH]
    : ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
const executablePath = CANDIDATES.find((p) => p !== '' && existsSync(p));
if (!executablePath)
  console.warn(
    `cors-browser.int.test.ts skipped: no Chromium binary at ${CANDIDATES.join(', ') || '""'} (apt-get install -y chromium, or set CHROMIUM_PATH)`,
  );

// The page's own script: what a browser app does. Resolves to what the page could read, or the error
// the browser gave it.
const PAGE = `<!doctype html><html><head><title>cors</title><script>
async function callGateway(url) {
  try {
    const res = await fetch(url, {
      method: 'POST',
      credentials: 'include',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ topProducts(first: 1) { upc name } }' }),
    });
    return { ok: true, status: res.status, body: await res.json(), rateLimit: res.headers.get('ratelimit') };
  } catch (error) {
    return { ok: false, error: String(error) };
  }
}
// Apollo Client's multipart Accept: its quotes make it a non-safelisted header, so the preflight must
// allow "accept"
async function callMultipart(url) {
  try {
    const res = await fetch(url, {
      method: 'POST',
      credentials: 'include',
      headers: {
        'content-type': 'application/json',
        accept: 'multipart/mixed;boundary="graphql";deferSpec=20220824, application/json',
      },
      body: JSON.stringify({ query: '{ topProducts(first: 1) { upc ... @defer { name } } }' }),
    });
    return { ok: true, status: res.status, text: await res.text() };
  } catch (error) {
    return { ok: false, error: String(error) };
  }
}
function openSocket(url) {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, 'graphql-transport-ws');
    ws.onopen = () => { ws.close(); resolve('open'); };
    ws.onerror = () => resolve('error');
  });
}
</script></head><body>cors test page</body></html>`;

interface PageResult {
  ok: boolean;
  status?: number;
  body?: { data?: unknown };
  rateLimit?: string | null;
  error?: string;
}

describe.skipIf(!executablePath)('CORS from a page on another origin, in headless Chromium', () => {
  const files = tempFiles('cors-browser');
  let products: TestSubgraph;
  let pageServer: Server;
  let pageOrigin: string;
  let browser: Browser;
  let page: Page;
  const gateways: Gateway[] = [];
  const consoleLines: string[] = [];
  /** The gateway answers Node's fetch: a failure in the page is the browser's CORS check, nothing else. */
  const answersOutsideTheBrowser = async (url: string) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ topProducts(first: 1) { upc } }' }),
    });
    expect(res.status).toBe(200);
  };

  const start = async (cors: NonNullable<GatewayConfigInput['server']>['cors']) => {
    const config = loadConfig({
      env: {},
      base: {
        server: { port: 0, host: '127.0.0.1', cors },
        telemetry: { accessLog: false },
        subgraphs: [
          {
            name: 'products',
            replicas: [products.url],
            schemaFile: files.write('products.graphql', PRODUCTS_SDL),
          },
        ],
      },
    });
    const gateway = await createGateway({ config });
    gateways.push(gateway);
    return gateway.listen();
  };

  beforeAll(async () => {
    products = await startTestSubgraph(PRODUCTS_SDL, productsResolvers);
    pageServer = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(PAGE);
    });
    await new Promise<void>((resolve) => pageServer.listen(0, '127.0.0.1', resolve));
    pageOrigin = `http://127.0.0.1:${(pageServer.address() as AddressInfo).port}`;
    // --no-sandbox: CI runs as root, where Chromium's sandbox will not start
    browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox'] });
    page = await browser.newPage();
    page.on('console', (m) => consoleLines.push(m.text()));
    await page.goto(`${pageOrigin}/`);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await Promise.all(gateways.map((g) => g.close(100)));
    pageServer?.close();
    await products?.stop();
  });

  const call = (url: string) =>
    page.evaluate(
      (u) => (globalThis as never as { callGateway(u: string): Promise<PageResult> }).callGateway(u),
      url,
    );
  const socket = (url: string) =>
    page.evaluate(
      (u) => (globalThis as never as { openSocket(u: string): Promise<string> }).openSocket(u),
      url,
    );

  it('an allowed origin with credentials: the data and an exposed header reach the page', async () => {
    const url = await start({ origins: [pageOrigin], credentials: true });
    const result = await call(url);
    expect(result).toMatchObject({
      ok: true,
      status: 200,
      body: { data: { topProducts: [{ upc: '1', name: 'Product 1' }] } },
    });
    // RateLimit is not CORS-safelisted: readable only because exposedHeaders lists it
    expect(result.rateLimit).toMatch(/^"[\w-]+";r=\d+;t=\d+$/);
  }, 30_000);

  it('a multipart Accept (not CORS-safelisted) passes the preflight with the default allowedHeaders', async () => {
    const url = await start({ origins: [pageOrigin], credentials: true });
    const result = await page.evaluate(
      (u) =>
        (
          globalThis as never as { callMultipart(u: string): Promise<PageResult & { text?: string }> }
        ).callMultipart(u),
      url,
    );
    expect(result).toMatchObject({ ok: true, status: 200 });
    expect(result.text).toContain('Product 1');
  }, 30_000);

  it('a gateway whose config does not list the origin: the fetch fails (blocked by the browser)', async () => {
    const url = await start({ origins: ['http://127.0.0.1:1'] });
    consoleLines.length = 0;
    expect(await call(url)).toEqual({ ok: false, error: 'TypeError: Failed to fetch' });
    expect(consoleLines.join('\n')).toMatch(/blocked by CORS policy: Response to preflight request/);
    await answersOutsideTheBrowser(url);
  }, 30_000);

  it('the origin listed but credentials off: a credentialed fetch is blocked too', async () => {
    const url = await start({ origins: [pageOrigin], credentials: false });
    consoleLines.length = 0;
    expect(await call(url)).toEqual({ ok: false, error: 'TypeError: Failed to fetch' });
    expect(consoleLines.join('\n')).toMatch(/blocked by CORS policy.*Access-Control-Allow-Credentials/s);
    await answersOutsideTheBrowser(url);
  }, 30_000);

  it('a WebSocket from the page opens when its origin is allowed, and fails when it is not', async () => {
    const allowed = await start({ origins: [pageOrigin] });
    const refused = await start({ origins: [] });
    expect(await socket(allowed.replace(/^http/, 'ws'))).toBe('open');
    expect(await socket(refused.replace(/^http/, 'ws'))).toBe('error');
  }, 30_000);
});
