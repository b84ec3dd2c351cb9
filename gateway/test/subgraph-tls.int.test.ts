import type { Server as NetServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subscribe } from '../../test/fixtures/subscribe.ts';
import { createGateway, type Gateway, loadConfig } from '../src/index.ts';
import { type Answer, EXPECTED, mtlsFront, QUERY } from './fixtures/https.ts';
import {
  createTestPki,
  type Issued,
  OPENSSL,
  OPENSSL_MISSING,
  type TestCa,
  type TestPki,
} from './fixtures/tls.ts';
import { startWsSubgraph } from './fixtures/ws-subgraph.ts';
import {
  PRODUCTS_SDL,
  productsResolvers,
  REVIEWS_SDL,
  reviewsResolvers,
  startTestSubgraph,
  type TestSubgraph,
  tempFiles,
} from './helpers.ts';

if (!OPENSSL) console.warn(`gateway/test/subgraph-tls.int.test.ts: ${OPENSSL_MISSING}`);

describe.skipIf(!OPENSSL)('mutual TLS to subgraph replicas (subgraphs[].tls)', () => {
  let pki: TestPki;
  let ca: TestCa;
  let client: Issued;
  let products: TestSubgraph;
  let reviews: TestSubgraph;
  let replica: NetServer;
  let replicaUrl: string;
  /** Common names of the client certificates the HTTPS replica accepted. */
  const presented: string[] = [];
  const gateways: Gateway[] = [];
  const files = tempFiles('mtls-int');

  beforeAll(async () => {
    pki = createTestPki('mtls-int');
    ca = pki.ca('mesh-ca');
    const server = ca.issue('products-replica');
    client = ca.issue('gateway-client', 'client');
    [products, reviews] = await Promise.all([
      startTestSubgraph(PRODUCTS_SDL, productsResolvers),
      startTestSubgraph(REVIEWS_SDL, reviewsResolvers),
    ]);
    const front = await mtlsFront(server, ca, Number(new URL(products.url).port), presented);
    replica = front.server;
    replicaUrl = front.url;
  });
  afterAll(async () => {
    await Promise.allSettled(gateways.map((g) => g.close(100)));
    replica?.close();
    await Promise.allSettled([products?.stop(), reviews?.stop()]);
    pki?.remove();
  });

  const start = async (tls: Record<string, string> | undefined, schemaFile?: string) => {
    const config = loadConfig({
      base: {
        server: { port: 0, host: '127.0.0.1' },
        ratelimit: { enabled: false },
        pool: { retry: { maxAttempts: 1 } },
        subgraphs: [
          {
            name: 'products',
            replicas: [replicaUrl],
            ...(schemaFile && { schemaFile }),
            ...(tls && { tls }),
          },
          { name: 'reviews', replicas: [reviews.url], schemaFile: files.write('r.graphql', REVIEWS_SDL) },
        ],
      },
    });
    const gateway = await createGateway({ config });
    gateways.push(gateway);
    return gateway.listen();
  };
  const query = async (gatewayUrl: string) => {
    const res = await fetch(gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: QUERY }),
    });
    return { status: res.status, body: (await res.json()) as Answer['body'] };
  };

  it('reaches an HTTPS replica that requires a client certificate, composing from it too', async () => {
    presented.length = 0;
    // no schemaFile: the SDL comes from the replica's _service { sdl }, over the same mTLS
    const gatewayUrl = await start({ certFile: client.certFile, keyFile: client.keyFile, caFile: ca.caFile });
    const { status, body } = await query(gatewayUrl);
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect(body.data).toEqual(EXPECTED);
    expect(presented.length).toBeGreaterThan(0);
    expect(new Set(presented)).toEqual(new Set(['gateway-client']));
  });

  it('subscribes over wss:// to a replica that requires a client certificate', async () => {
    const TICKS = `
      extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
      type Query { ping: Int }
      type Subscription { ticks: Int! }
    `;
    const ticks = await startWsSubgraph(TICKS, {
      Query: { ping: () => 1 },
      Subscription: {
        ticks: {
          subscribe: async function* () {
            for (let i = 1; i <= 3; i++) yield { ticks: i };
          },
        },
      },
    });
    const seen: string[] = [];
    const front = await mtlsFront(ca.issue('ticks-replica'), ca, Number(new URL(ticks.url).port), seen);
    try {
      const config = loadConfig({
        base: {
          server: { port: 0, host: '127.0.0.1' },
          ratelimit: { enabled: false },
          subgraphs: [
            {
              name: 'ticks',
              replicas: [front.url],
              schemaFile: files.write('ticks.graphql', TICKS),
              tls: { certFile: client.certFile, keyFile: client.keyFile, caFile: ca.caFile },
            },
          ],
        },
      });
      const gateway = await createGateway({ config });
      gateways.push(gateway);
      const h = subscribe('ws', await gateway.listen(), 'subscription { ticks }');
      try {
        expect((await h.waitFor(3)).data).toEqual({ ticks: 3 });
        expect(h.events.map((e) => e.data)).toEqual([{ ticks: 1 }, { ticks: 2 }, { ticks: 3 }]);
      } finally {
        await h.close();
      }
      expect(ticks.upgrades.length).toBeGreaterThan(0); // the events came over the upstream WebSocket
      expect(new Set(seen)).toEqual(new Set(['gateway-client']));
    } finally {
      front.server.close();
      await ticks.stop();
    }
  });

  it('is refused by that replica without a client certificate (only the CA to trust)', async () => {
    presented.length = 0;
    const gatewayUrl = await start({ caFile: ca.caFile }, files.write('p.graphql', PRODUCTS_SDL));
    const { body } = await query(gatewayUrl);
    expect(body.data ?? null).toBeNull();
    expect(body.errors?.[0]?.extensions?.code).toBe('SUBGRAPH_UNAVAILABLE');
    expect(presented).toEqual([]);
  });

  it('does not trust the private CA of a replica unless caFile names it', async () => {
    const gatewayUrl = await start(
      { certFile: client.certFile, keyFile: client.keyFile },
      files.write('p2.graphql', PRODUCTS_SDL),
    );
    const { body } = await query(gatewayUrl);
    expect(body.errors?.[0]?.extensions?.code).toBe('SUBGRAPH_UNAVAILABLE');
  });

  it('stops start-up on a missing client certificate, naming the key', async () => {
    await expect(
      start({ certFile: join(pki.dir, 'nope.crt'), keyFile: client.keyFile, caFile: ca.caFile }),
    ).rejects.toThrow(
      `subgraphs.products.tls.certFile: ${join(pki.dir, 'nope.crt')} cannot be read (ENOENT)`,
    );
  });
});
