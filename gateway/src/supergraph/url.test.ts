import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { fetchSupergraphUrl, shownUrl } from './url.ts';

const seen: IncomingHttpHeaders[] = [];
let body = 'schema { query: Query } type Query { a: Int }';
const MODIFIED = 'Wed, 02 Dec 2026 10:00:00 GMT';
const server = createServer((req, res) => {
  seen.push(req.headers);
  if (req.url === '/moved') return void res.writeHead(302, { location: '/lm' }).end();
  if (req.url === '/forbidden') return void res.writeHead(403).end('no');
  if (req.url === '/empty') return void res.writeHead(200).end('  \n');
  // Last-Modified only, no ETag: the poll must fall back to If-Modified-Since.
  if (req.headers['if-modified-since'] === MODIFIED) return void res.writeHead(304).end();
  res.writeHead(200, { 'last-modified': MODIFIED }).end(body);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const source = (path: string) => ({ url: `${base}${path}`, headers: { 'x-key': 'k' }, timeoutMs: 2_000 });

describe('fetchSupergraphUrl', () => {
  it('sends If-Modified-Since when the source gives only Last-Modified, and a 304 returns the body it had', async () => {
    const first = await fetchSupergraphUrl(source('/lm'));
    body = 'changed on the server, but it says 304';
    const second = await fetchSupergraphUrl(source('/lm'));
    expect(second).toBe(first);
    expect(seen.at(-1)).toMatchObject({ 'if-modified-since': MODIFIED, 'x-key': 'k' });
    expect(seen.at(-1)).not.toHaveProperty('if-none-match');
  });

  it('follows a redirect, and names the URL and the status of a refusal or an empty body', async () => {
    await expect(fetchSupergraphUrl(source('/moved'))).resolves.toBe(body);
    await expect(fetchSupergraphUrl(source('/forbidden'))).rejects.toMatchObject({
      code: 'SUPERGRAPH_UNAVAILABLE',
      message: `supergraph ${base}/forbidden: answered 403`,
    });
    await expect(fetchSupergraphUrl(source('/empty'))).rejects.toMatchObject({ code: 'SUPERGRAPH_INVALID' });
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await expect(
      fetchSupergraphUrl({ url: `http://127.0.0.1:${port}/sg`, headers: {}, timeoutMs: 1_000 }),
    ).rejects.toMatchObject({
      code: 'SUPERGRAPH_UNAVAILABLE',
      message: expect.stringMatching(/ECONNREFUSED/),
    });
  });

  it('shows a URL without credentials or query string', () => {
    expect(shownUrl('https://user:pw@cdn.example/g/sg.graphql?token=abc')).toBe(
      'https://cdn.example/g/sg.graphql',
    );
  });
});
