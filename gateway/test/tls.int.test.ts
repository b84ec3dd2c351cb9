import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { join } from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  composeSupergraph,
  createGateway,
  createGraphsGateway,
  type Gateway,
  loadConfig,
} from '../src/index.ts';
import type { Logger } from '../src/server/index.ts';
import { createListener } from '../src/server/listener.ts';
import { EXPECTED, errorCode, peerFingerprint, post, until } from './fixtures/https.ts';
import {
  createTestPki,
  type Issued,
  OPENSSL,
  OPENSSL_MISSING,
  type TestCa,
  type TestPki,
} from './fixtures/tls.ts';
import {
  killGateways,
  PRODUCTS_SDL,
  productsResolvers,
  REVIEWS_SDL,
  reviewsResolvers,
  spawnGateway,
  startTestSubgraph,
  type TestSubgraph,
  tempFiles,
} from './helpers.ts';

if (!OPENSSL) console.warn(`gateway/test/tls.int.test.ts: ${OPENSSL_MISSING}`);

describe.skipIf(!OPENSSL)('HTTPS at the edge (server.tls)', () => {
  let pki: TestPki;
  let ca: TestCa;
  let served: { certFile: string; keyFile: string };
  let first: Issued;
  let second: Issued;
  let products: TestSubgraph;
  let reviews: TestSubgraph;
  let gateway: Gateway;
  let url: string;
  let port: number;
  const logs: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  const logger: Logger = {
    info: (message, fields) => logs.push({ level: 'info', message, fields }),
    warn: (message, fields) => logs.push({ level: 'warn', message, fields }),
    error: (message, fields) => logs.push({ level: 'error', message, fields }),
  };
  const files = tempFiles('tls-int');

  beforeAll(async () => {
    pki = createTestPki('tls-int');
    ca = pki.ca('edge-ca');
    first = ca.issue('first');
    second = ca.issue('second');
    // The files the gateway serves from, replaced in place by the rotation test.
    served = { certFile: join(pki.dir, 'served.crt'), keyFile: join(pki.dir, 'served.key') };
    copyFileSync(first.certFile, served.certFile);
    copyFileSync(first.keyFile, served.keyFile);
    [products, reviews] = await Promise.all([
      startTestSubgraph(PRODUCTS_SDL, productsResolvers),
      startTestSubgraph(REVIEWS_SDL, reviewsResolvers),
    ]);
    const config = loadConfig({
      base: {
        server: { port: 0, host: '127.0.0.1', tls: served },
        ratelimit: { enabled: false },
        subgraphs: [
          { name: 'products', replicas: [products.url], schemaFile: files.write('p.graphql', PRODUCTS_SDL) },
          { name: 'reviews', replicas: [reviews.url], schemaFile: files.write('r.graphql', REVIEWS_SDL) },
        ],
      },
    });
    gateway = await createGateway({ config, logger });
    url = await gateway.listen();
    port = Number(new URL(url).port);
  });
  afterAll(async () => {
    await gateway?.close(100);
    await Promise.allSettled([products?.stop(), reviews?.stop()]);
    pki?.remove();
  });

  it('listens on https:// and answers a client that trusts the CA', async () => {
    expect(url).toBe(`https://127.0.0.1:${port}/graphql`);
    const answer = await post(url, { ca: ca.ca });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ data: EXPECTED, extensions: expect.anything() });
    expect(await peerFingerprint(port, ca.ca)).toBe(first.fingerprint256);
  });

  it('is refused by a client that does not trust the CA', async () => {
    // the system's CAs, then another private CA: neither signed the gateway's certificate
    expect(await errorCode(post(url, {}))).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    const other = pki.ca('other-ca');
    expect(await errorCode(post(url, { ca: other.ca }))).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });

  it('serves several graphs on one HTTPS listener (graphs)', async () => {
    const config = loadConfig({
      base: {
        server: { port: 0, host: '127.0.0.1', tls: { certFile: first.certFile, keyFile: first.keyFile } },
        ratelimit: { enabled: false },
        graphs: [
          {
            path: '/graphql',
            subgraphs: [
              {
                name: 'products',
                replicas: [products.url],
                schemaFile: files.write('gp.graphql', PRODUCTS_SDL),
              },
            ],
          },
          {
            path: '/partner/graphql',
            subgraphs: [
              {
                name: 'products',
                replicas: [products.url],
                schemaFile: files.write('gq.graphql', PRODUCTS_SDL),
              },
            ],
          },
        ],
      },
    });
    const graphs = await createGraphsGateway({ config });
    try {
      await graphs.listen();
      expect(graphs.urls.map((u) => new URL(u).protocol)).toEqual(['https:', 'https:']);
      for (const graphUrl of graphs.urls) {
        const answer = await post(graphUrl, { ca: ca.ca }, '{ topProducts(first: 1) { upc } }');
        expect(answer.body.data, graphUrl).toEqual({ topProducts: [{ upc: '1' }] });
      }
    } finally {
      await graphs.close(100);
    }
  });

  it('offers only HTTP/1.1 over ALPN, so a client asking for h2 falls back to it', async () => {
    const protocol = await new Promise<string | false | null>((resolve, reject) => {
      const socket: TLSSocket = connect(
        { host: '127.0.0.1', port, ca: ca.ca, ALPNProtocols: ['h2', 'http/1.1'] },
        () => {
          resolve(socket.alpnProtocol);
          socket.end();
        },
      );
      socket.on('error', reject);
    });
    expect(protocol).toBe('http/1.1');
  });

  it('upgrades a WebSocket over TLS (graphql-transport-ws answers connection_init)', async () => {
    const ws = new WebSocket(url.replace(/^https/, 'wss'), 'graphql-transport-ws', { ca: ca.ca });
    const first = await new Promise<string>((resolve, reject) => {
      ws.once('open', () => ws.send(JSON.stringify({ type: 'connection_init' })));
      ws.once('message', (data) => resolve(String(data)));
      ws.once('error', reject);
    });
    ws.close();
    expect(JSON.parse(first)).toMatchObject({ type: 'connection_ack' });
  });

  it('rotates the certificate while requests flow: 0 failures, new connections see the new one', async () => {
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 2, ca: ca.ca });
    const MAX = 3_000; // a bound on the loop whatever happens
    let stop = false;
    let sent = 0;
    let reused = 0;
    const failures: string[] = [];
    const loop = async (fresh: boolean) => {
      while (!stop && sent < MAX) {
        sent++;
        try {
          const answer = await post(url, fresh ? { ca: ca.ca } : { agent: keepAlive });
          if (answer.reused) reused++;
          if (answer.status !== 200 || answer.body.errors)
            failures.push(`${answer.status} ${JSON.stringify(answer.body.errors)}`);
        } catch (error) {
          failures.push((error as Error).message);
        }
      }
    };
    const loops = [loop(true), loop(true), loop(false), loop(false)];
    try {
      await until('traffic', () => sent >= 40);
      // Half a rotation: the certificate is replaced, its key not yet. The old pair keeps serving and
      // the gateway says so once, naming the file.
      copyFileSync(second.certFile, served.certFile);
      await until('the mismatch to be logged', () =>
        logs.some((l) => l.level === 'error' && l.message.includes('does not match')),
      );
      expect(await peerFingerprint(port, ca.ca)).toBe(first.fingerprint256);
      const beforeKey = sent;
      copyFileSync(second.keyFile, served.keyFile);
      await until('the new certificate on a new connection', async () => {
        return (await peerFingerprint(port, ca.ca)) === second.fingerprint256;
      });
      const atSwap = sent;
      await until('traffic after the swap', () => sent >= atSwap + 40);
      stop = true;
      await Promise.all(loops);
      console.log(
        `tls rotation: ${sent} requests (${sent - beforeKey} after the key changed, ${reused} on kept-alive connections), ${failures.length} failed`,
      );
      expect(failures).toEqual([]);
      expect(reused).toBeGreaterThan(0);
      expect(sent).toBeLessThan(MAX);
      const mismatch = logs.filter((l) => l.message.includes('does not match'));
      expect(mismatch.map((l) => l.message)).toEqual([
        `server.tls: keeping the previous certificate: server.tls.keyFile ${served.keyFile} does not match server.tls.certFile ${served.certFile}`,
      ]);
      const reloaded = logs.filter((l) => l.message === 'server.tls: certificate reloaded');
      expect(reloaded).toHaveLength(1);
      expect(reloaded[0]).toMatchObject({ level: 'info', fields: { fingerprint256: second.fingerprint256 } });
    } finally {
      stop = true;
      await Promise.allSettled(loops);
      keepAlive.destroy();
    }
  });

  it('keeps serving when a rotated file is garbage', async () => {
    const current = await peerFingerprint(port, ca.ca);
    writeFileSync(served.keyFile, 'not a key');
    await until('the bad key to be logged', () =>
      logs.some((l) => l.message.includes(`${served.keyFile} is not an unencrypted PEM private key`)),
    );
    expect((await post(url, { ca: ca.ca })).status).toBe(200);
    expect(await peerFingerprint(port, ca.ca)).toBe(current);
  });
});

describe.skipIf(!OPENSSL)('the HTTPS listener', () => {
  let pki: TestPki;
  let ca: TestCa;
  let cert: Issued;
  beforeAll(() => {
    pki = createTestPki('drain-int');
    ca = pki.ca('drain-ca');
    cert = ca.issue('drain');
  });
  afterAll(() => pki?.remove());

  it('refuses clients older than minVersion', async () => {
    const negotiated = async (minVersion: 'TLSv1.2' | 'TLSv1.3') => {
      const listener = createListener(
        { tls: { certFile: cert.certFile, keyFile: cert.keyFile, minVersion } },
        { onRequest: (_req, res) => res.end() },
      );
      const port = Number(new URL(await listener.listen(0, '127.0.0.1')).port);
      try {
        return await new Promise<string>((resolve) => {
          const socket = connect({ host: '127.0.0.1', port, ca: ca.ca, maxVersion: 'TLSv1.2' }, () => {
            resolve(String(socket.getProtocol()));
            socket.end();
          });
          socket.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
        });
      } finally {
        await listener.close(100);
      }
    };
    expect(await negotiated('TLSv1.2')).toBe('TLSv1.2');
    expect(await negotiated('TLSv1.3')).toMatch(/ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION|ECONNRESET/);
  });

  it('with caFile, requires a client certificate from that CA', async () => {
    const client = ca.issue('edge-client', 'client');
    const stranger = pki.ca('stranger-ca').issue('stranger', 'client');
    const listener = createListener(
      { tls: { certFile: cert.certFile, keyFile: cert.keyFile, caFile: ca.caFile, minVersion: 'TLSv1.2' } },
      {
        onRequest: (req, res) => res.end(String((req.socket as TLSSocket).getPeerCertificate().subject?.CN)),
      },
    );
    const origin = await listener.listen(0, '127.0.0.1');
    const getWith = (tls: { cert?: Buffer; key?: Buffer }) =>
      new Promise<string>((resolve, reject) => {
        const req = request(`${origin}/`, { agent: false, ca: ca.ca, ...tls }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d));
          res.on('end', () => resolve(body));
        });
        req.on('error', reject);
        req.end();
      });
    const pair = (i: Issued) => ({ cert: readFileSync(i.certFile), key: readFileSync(i.keyFile) });
    try {
      expect(await getWith(pair(client))).toBe('edge-client');
      // TLS 1.3 sends the refusal after the client's Finished: the request fails either way
      expect(await errorCode(getWith({}))).toMatch(/ECONNRESET|ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED/);
      expect(await errorCode(getWith(pair(stranger)))).toMatch(/ECONNRESET|ERR_SSL_TLSV1_ALERT_UNKNOWN_CA/);
    } finally {
      await listener.close(100);
    }
  });

  it('lets a request in flight on a kept-alive connection finish, says Connection: close, refuses new ones', async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    let arrived = false;
    const listener = createListener(
      { tls: { certFile: cert.certFile, keyFile: cert.keyFile, minVersion: 'TLSv1.3' } },
      {
        onRequest: (req, res) => {
          if (req.url !== '/slow') return void res.end('fast');
          arrived = true;
          void held.then(() => res.end('slow done'));
        },
      },
    );
    const origin = await listener.listen(0, '127.0.0.1');
    expect(origin).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: ca.ca });
    const get = (path: string) =>
      new Promise<{ status: number; connection: string | undefined; body: string; reused: boolean }>(
        (resolve, reject) => {
          const req = request(`${origin}${path}`, { agent }, (res) => {
            let body = '';
            res.on('data', (d: Buffer) => (body += d));
            res.on('end', () =>
              resolve({
                status: res.statusCode!,
                connection: res.headers.connection,
                body,
                reused: req.reusedSocket,
              }),
            );
          });
          req.on('error', reject);
          req.end();
        },
      );
    try {
      expect((await get('/fast')).body).toBe('fast'); // opens the kept-alive connection
      const slow = get('/slow'); // on that same connection
      await until('the slow request to arrive', () => arrived);
      const closed = listener.close(10_000);
      // the listening socket is gone: a new connection is refused, so its client knows nothing was sent
      expect(await errorCode(post(`${origin}/graphql`, { ca: ca.ca }))).toBe('ECONNREFUSED');
      // Held past the drain's 2 s idle cut: a connection it wrongly saw as idle would be cut by now.
      await new Promise((r) => setTimeout(r, 2_500));
      release();
      expect(await slow).toEqual({ status: 200, connection: 'close', body: 'slow done', reused: true });
      await closed;
    } finally {
      release();
      agent.destroy();
    }
  });
});

describe.skipIf(!OPENSSL)('tollgate CLI with server.tls', () => {
  let pki: TestPki;
  let ca: TestCa;
  let products: TestSubgraph;
  let supergraph: string;
  beforeAll(async () => {
    pki = createTestPki('tls-cli');
    ca = pki.ca('cli-ca');
    // The pair sits beside the config file, named relative to it.
    const cert = ca.issue('cli');
    copyFileSync(cert.certFile, join(pki.dir, 'gateway.crt'));
    copyFileSync(cert.keyFile, join(pki.dir, 'gateway.key'));
    products = await startTestSubgraph(PRODUCTS_SDL, productsResolvers);
    supergraph = join(pki.dir, 'supergraph.graphql');
    writeFileSync(
      supergraph,
      composeSupergraph([{ name: 'products', url: products.url, sdl: PRODUCTS_SDL }]),
    );
  });
  afterEach(killGateways);
  afterAll(async () => {
    await products?.stop();
    pki?.remove();
  });

  const configFile = (tls: string, workers = 1) => {
    const file = join(pki.dir, `gateway-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, `server:\n  host: 127.0.0.1\n  port: 0\n  workers: ${workers}\n  tls:\n${tls}`);
    return file;
  };

  it('says https:// on the ready line and serves on it, with paths relative to the config file', async () => {
    const config = configFile('    certFile: gateway.crt\n    keyFile: gateway.key\n');
    const r = spawnGateway(['--config', config, '--supergraph', supergraph]);
    const url = await r.ready;
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/graphql$/);
    const answer = await post(url, { ca: ca.ca }, '{ topProducts(first: 1) { upc } }');
    expect(answer.body.data).toEqual({ topProducts: [{ upc: '1' }] });
    r.child.kill('SIGTERM');
    expect((await r.exit).code).toBe(0);
  });

  it('refuses to start on a certificate path that does not exist, naming server.tls.certFile', async () => {
    // with server.workers too: the supervisor checks before it forks, rather than workers dying in a loop
    for (const workers of [1, 2]) {
      const config = configFile('    certFile: missing.crt\n    keyFile: gateway.key\n', workers);
      const { code, stderr } = await spawnGateway(['--config', config, '--supergraph', supergraph]).exit;
      expect(code, `workers: ${workers}`).toBe(2);
      expect(stderr).toContain(
        `server.tls.certFile: ${join(pki.dir, 'missing.crt')} cannot be read (ENOENT)`,
      );
      expect(stderr).not.toMatch(/worker pid/);
    }
  });
});
