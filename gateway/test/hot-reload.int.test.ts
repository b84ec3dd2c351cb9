import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { createGateway, type Gateway, type GatewayConfig, loadConfig } from '../src/index.ts';
import {
  gql,
  PRODUCTS_SDL,
  productsResolvers,
  REVIEWS_SDL,
  reviewsResolvers,
  startTestSubgraph,
  type TestSubgraph,
  tempFiles,
} from './helpers.ts';

const files = tempFiles('reload');
const file = files.write;
const PRODUCTS_V2 = PRODUCTS_SDL.replace('price: Int!', 'price: Int! weight: Int!');
const BROKEN = PRODUCTS_SDL.replace('price: Int!', 'price: String!'); // clashes with reviews' key? no: with v1 price type
const POLL_MS = 200;

const started: TestSubgraph[] = [];
let gateway: Gateway | undefined;
afterAll(async () => {
  await gateway?.close(100);
  await Promise.all(started.map((s) => s.stop()));
});

describe('supergraph hot reload', () => {
  it('adds a subgraph, changes one and refuses a broken one under continuous load, dropping nothing', async () => {
    const products = await startTestSubgraph(PRODUCTS_SDL, productsResolvers);
    const productsV2 = await startTestSubgraph(PRODUCTS_V2, {
      ...productsResolvers,
      Product: { ...(productsResolvers.Product as object), weight: () => 7 },
    });
    const reviews = await startTestSubgraph(REVIEWS_SDL, reviewsResolvers);
    started.push(products, productsV2, reviews);
    const productsFile = file('products.graphql', PRODUCTS_SDL);
    let subgraphs: unknown[] = [{ name: 'products', replicas: [products.url], schemaFile: productsFile }];
    const configNow = (): GatewayConfig =>
      loadConfig({
        base: {
          server: { port: 0, host: '127.0.0.1' },
          ratelimit: { enabled: false },
          supergraph: { pollIntervalMs: POLL_MS },
          subgraphs,
        },
      });
    gateway = await createGateway({ config: configNow(), reloadConfig: configNow });
    const url = await gateway.listen();
    const ready = async () =>
      (
        (await (await fetch(`${gateway!.adminUrl}/health/ready`)).json()) as {
          supergraph: { reloads: number; lastError: string | null };
        }
      ).supergraph;

    // a client that never stops asking for fields valid before and after every change
    let stop = false;
    const outcomes: string[] = [];
    const client = (async () => {
      while (!stop) {
        const res = await gql(url, '{ topProducts(first: 2) { upc name } }');
        outcomes.push(
          res.status === 200 && !res.body.errors ? 'ok' : `${res.status} ${JSON.stringify(res.body.errors)}`,
        );
      }
    })();
    const eventually = async (what: () => Promise<boolean>, label: string) => {
      const t0 = Date.now();
      while (!(await what())) {
        if (Date.now() - t0 > 10_000) throw new Error(`${label} did not happen within 10 s`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return Date.now() - t0;
    };

    // 1. add a subgraph
    subgraphs = [
      ...subgraphs,
      { name: 'reviews', replicas: [reviews.url], schemaFile: file('reviews.graphql', REVIEWS_SDL) },
    ];
    const added = await eventually(async () => {
      const r = await gql(url, '{ topProducts(first: 1) { reviews { body } } }');
      return r.status === 200 && !r.body.errors;
    }, 'the new subgraph');

    // 2. change one: products v2 adds `weight`, served by new replicas
    writeFileSync(productsFile, PRODUCTS_V2);
    subgraphs = [{ name: 'products', replicas: [productsV2.url], schemaFile: productsFile }, subgraphs[1]];
    const changed = await eventually(async () => {
      const r = await gql(url, '{ topProducts(first: 1) { weight } }');
      return (
        r.status === 200 &&
        (r.body.data as { topProducts: { weight: number }[] } | undefined)?.topProducts[0]?.weight === 7
      );
    }, 'the new field');

    // 3. push a broken schema: refused, the old supergraph keeps serving, readiness says why
    writeFileSync(productsFile, BROKEN.replace('price: String!', 'price: String! reviews: Int'));
    await eventually(async () => (await ready()).lastError !== null, 'the refusal');
    const status = await ready();
    expect(status.lastError).toMatch(/composition failed/);
    const still = await gql(url, '{ topProducts(first: 1) { weight reviews { body } } }');
    expect(still.body.errors).toBeUndefined();

    stop = true;
    await client;
    expect(outcomes.length).toBeGreaterThan(10);
    expect(outcomes.filter((o) => o !== 'ok')).toEqual([]);
    expect(status.reloads).toBe(2);
    console.log(
      `hot reload: new subgraph queryable after ${added} ms, new field after ${changed} ms (poll ${POLL_MS} ms); ${outcomes.length} requests, 0 failed`,
    );
  });
});
