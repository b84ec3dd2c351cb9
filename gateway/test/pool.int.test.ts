import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type Gateway, loadConfig } from '../src/index.ts';
import { poolAdminView, type ReplicaPool, type ReplicaStats } from '../src/pool/index.ts';
import { killAllReplicas, ReplicaProcess, scratchDir, sdlFiles } from './fixtures/replica-process.ts';

// The replica pool against real replica processes (gateway/test/fixtures/replica.mjs), killed with -9.
// Timing bounds are generous: this runs on loaded 2-core CI machines. Measured figures are printed
// with a [pool] prefix.

const FULL = '{ topProducts(first: 2) { upc name reviews { body } } }';
const PRODUCTS_ONLY = '{ topProducts(first: 2) { upc name } }';
const FULL_DATA = {
  topProducts: [
    { upc: '1', name: 'Product 1', reviews: [{ body: 'Review of 1' }] },
    { upc: '2', name: 'Product 2', reviews: [{ body: 'Review of 2' }] },
  ],
};
const ADD_REVIEW = 'mutation Add($id: ID!) { addReview(id: $id, upc: "1", body: "great") { id } }';
const rowsFile = join(scratchDir, 'rows.txt');

// Checks fast enough to matter within a test; everything else at its defaults (p2c_ewma, 5 failures
// eject for 30 s, 3 attempts, 25 ms backoff, 20% budget).
// Probe timeouts stay long: on a CPU-starved machine a live replica can take hundreds of ms to answer.
const FAST_CHECKS = { healthCheck: { intervalMs: 250, timeoutMs: 2_000 } };

interface GqlBody {
  data?: Record<string, unknown> | null;
  errors?: { message: string; path?: unknown[]; extensions?: Record<string, unknown> }[];
}
interface Sample {
  i: number;
  ok: boolean;
  ms: number;
  status?: number;
  body?: GqlBody;
  error?: string;
}

/** Closed-loop load: `concurrency` clients, each sending its next request when the last one is answered. */
function startLoad(
  url: string,
  concurrency: number,
  request: (i: number) => { query: string; variables?: unknown },
  ok: (body: GqlBody, status: number) => boolean,
) {
  const target = new URL(url);
  const client = new Pool(target.origin, { connections: concurrency });
  const samples: Sample[] = [];
  let running = true;
  let n = 0;
  const worker = async () => {
    while (running) {
      const i = n++;
      const t0 = performance.now();
      try {
        const res = await client.request({
          path: target.pathname,
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(request(i)),
        });
        const body = (await res.body.json()) as GqlBody;
        const good = ok(body, res.statusCode);
        samples.push({
          i,
          ok: good,
          ms: performance.now() - t0,
          status: res.statusCode,
          ...(good ? {} : { body }),
        });
      } catch (error) {
        samples.push({ i, ok: false, ms: performance.now() - t0, error: String(error) });
      }
    }
  };
  const workers = Array.from({ length: concurrency }, () => worker());
  return {
    samples,
    async stop(): Promise<Sample[]> {
      running = false;
      await Promise.all(workers);
      await client.close();
      return samples;
    },
  };
}

const fullOk = (body: GqlBody, status: number) =>
  status === 200 && !body.errors && JSON.stringify(body.data) === JSON.stringify(FULL_DATA);

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return (
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN
  );
}

async function gql(url: string, query: string, variables?: unknown) {
  const t0 = performance.now();
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: (await res.json()) as GqlBody, ms: performance.now() - t0 };
}

/** Polls until `pred` holds; resolves to the time it took, or rejects after `timeoutMs`. */
async function waitFor(pred: () => boolean, timeoutMs: number, what: string): Promise<number> {
  const t0 = performance.now();
  while (!pred()) {
    if (performance.now() - t0 > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
  return performance.now() - t0;
}

const statsOf = (pool: ReplicaPool, url: string): ReplicaStats => pool.stats().find((s) => s.url === url)!;
const isOut = (s: ReplicaStats | undefined) => s?.state === 'ejected' || s?.state === 'unhealthy';
const log = (message: string) => console.info(`[pool] ${message}`);

describe('replica pool with real replica processes', () => {
  let products: ReplicaProcess[] = [];
  let reviews: ReplicaProcess[] = [];
  const gateways: Gateway[] = [];

  async function startGateway(pool: Record<string, unknown>): Promise<{ gateway: Gateway; url: string }> {
    const config = loadConfig({
      base: {
        server: { port: 0, host: '127.0.0.1' },
        subgraphs: [
          { name: 'products', replicas: products.map((r) => r.url), schemaFile: sdlFiles.products },
          { name: 'reviews', replicas: reviews.map((r) => r.url), schemaFile: sdlFiles.reviews },
        ],
        pool,
        // these tests load the gateway on purpose: cost budgets are another suite's concern
        ratelimit: { enabled: false },
      },
    });
    const gateway = await createGateway({ config });
    gateways.push(gateway);
    const url = await gateway.listen();
    // the first query of a gateway plans and JIT-compiles cold: keep that out of the measurements
    await gql(url, PRODUCTS_ONLY);
    return { gateway, url };
  }

  beforeAll(async () => {
    [products, reviews] = await Promise.all([
      Promise.all([0, 1, 2].map(() => ReplicaProcess.start('products'))),
      Promise.all(
        [0, 1, 2].map(() =>
          ReplicaProcess.start('reviews', { ROWS_FILE: rowsFile, MUTATION_DELAY_MS: '30' }),
        ),
      ),
    ]);
  });

  afterAll(async () => {
    await Promise.allSettled(gateways.map((g) => g.close(100)));
    await killAllReplicas();
  });

  it('kill -9 one replica of each subgraph under load: no failed query, ejected fast, ramps back after restart', async () => {
    const { gateway, url } = await startGateway({ ...FAST_CHECKS, slowStartWindowMs: 3_000 });
    const productsPool = gateway.pools.get('products')!;
    const reviewsPool = gateway.pools.get('reviews')!;
    const load = startLoad(url, 8, () => ({ query: FULL }), fullOk);
    await sleep(1_000);

    const [p0, r0] = [products[0]!, reviews[0]!];
    const killedAt = performance.now();
    await Promise.all([p0.kill(), r0.kill()]);
    const [productsOutMs, reviewsOutMs] = await Promise.all([
      waitFor(() => isOut(statsOf(productsPool, p0.url)), 10_000, 'products replica out').then(
        () => performance.now() - killedAt,
      ),
      waitFor(() => isOut(statsOf(reviewsPool, r0.url)), 10_000, 'reviews replica out').then(
        () => performance.now() - killedAt,
      ),
    ]);
    log(
      `kill -9: products replica out after ${productsOutMs.toFixed(0)} ms (${statsOf(productsPool, p0.url).state}), reviews after ${reviewsOutMs.toFixed(0)} ms (${statsOf(reviewsPool, r0.url).state})`,
    );
    const whileDead = statsOf(productsPool, p0.url).requests;
    await sleep(500);
    // ejected: no traffic while the others are healthy (panic needs under 50% available)
    expect(statsOf(productsPool, p0.url).requests).toBe(whileDead);

    await Promise.all([p0.restart(), r0.restart()]);
    const backMs = await waitFor(
      () => !isOut(statsOf(productsPool, p0.url)) && !isOut(statsOf(reviewsPool, r0.url)),
      10_000,
      'restarted replicas back',
    );
    expect(statsOf(productsPool, p0.url).state).toBe('slow_start');

    // The restarted replica's share of products fetches early in its 3 s slow start, and after it.
    const share = async (fromMs: number, toMs: number) => {
      await sleep(Math.max(0, fromMs - (performance.now() - backAt)));
      const a = productsPool.stats();
      await sleep(Math.max(0, toMs - (performance.now() - backAt)));
      const b = productsPool.stats();
      const delta = (u: string) =>
        b.find((s) => s.url === u)!.requests - (a.find((s) => s.url === u)?.requests ?? 0);
      return (
        delta(p0.url) /
        Math.max(
          1,
          b.reduce((n, s) => n + delta(s.url), 0),
        )
      );
    };
    const backAt = performance.now();
    const early = await share(0, 1_200);
    const late = await share(3_200, 4_400);
    const samples = await load.stop();
    log(
      `restart: back in rotation ${backMs.toFixed(0)} ms after the new process listened; its share of products fetches ${(early * 100).toFixed(1)}% in the first 1.2 s of slow start, ${(late * 100).toFixed(1)}% after it`,
    );
    const counters = (p: ReplicaPool) => {
      const { retries, failovers, retriesDenied } = p.snapshot();
      return JSON.stringify({ retries, failovers, retriesDenied });
    };
    log(
      `kill -9 run: ${samples.length} queries, ${samples.filter((s) => !s.ok).length} failed; products pool ${counters(productsPool)}, reviews pool ${counters(reviewsPool)}`,
    );

    expect(samples.filter((s) => !s.ok).slice(0, 3)).toEqual([]);
    expect(samples.length).toBeGreaterThan(50);
    expect(productsOutMs).toBeLessThan(3_000);
    expect(reviewsOutMs).toBeLessThan(3_000);
    expect(late).toBeGreaterThan(0.15); // it gets traffic again...
    expect(early).toBeLessThan(late); // ...ramping up
    await gateway.close(100);
  });

  it('a replica answering 500 to everything is ejected and clients see no error', async () => {
    // the pool's own active checks off: this is about passive outlier detection on live traffic
    const { gateway, url } = await startGateway({ healthCheck: { intervalMs: 0 } });
    const pool = gateway.pools.get('products')!;
    const bad = products[1]!;
    const load = startLoad(url, 8, () => ({ query: FULL }), fullOk);
    await sleep(500);
    await bad.control({ status: 500 });
    const outMs = await waitFor(
      () => statsOf(pool, bad.url).state === 'ejected',
      10_000,
      '500 replica ejected',
    );
    await sleep(1_000);
    const samples = await load.stop();
    await bad.control({ status: 200 });
    const s = statsOf(pool, bad.url);
    log(
      `500s: replica out after ${outMs.toFixed(0)} ms (${s.state}, ejected ${s.timesEjected}×, ${s.errors} failed attempts); ${samples.length} queries, ${samples.filter((x) => !x.ok).length} failed; retries ${pool.snapshot().retries}, denied ${pool.snapshot().retriesDenied}`,
    );
    expect(samples.filter((x) => !x.ok).slice(0, 3)).toEqual([]);
    expect(s.timesEjected).toBeGreaterThanOrEqual(1);
    expect(outMs).toBeLessThan(5_000);
    await gateway.close(100);
  });

  it('a replica slowed by 200 ms: p2c_ewma sends it little and keeps p99 well below round robin (T-L2)', async (ctx) => {
    const slow = products[2]!;
    const [p2c, rr] = await Promise.all([
      startGateway({ ...FAST_CHECKS, strategy: 'p2c_ewma' }),
      startGateway({ ...FAST_CHECKS, strategy: 'round_robin' }),
    ]);
    const productsOk = (body: GqlBody, status: number) =>
      status === 200 && !body.errors && Array.isArray(body.data?.topProducts);
    // What a fast query costs on this machine, before and after the run (no replica slow): the worse of
    // the two says how much the machine itself adds while the comparison runs.
    const baseline = async () => {
      const ms: number[] = [];
      for (let i = 0; i < 15; i++) ms.push((await gql(rr.url, PRODUCTS_ONLY)).ms);
      return percentile(ms, 50);
    };
    const baseBefore = await baseline();
    await slow.control({ delayMs: 200 });
    // Same run: both gateways load the same replicas at the same time. The first second is warm-up
    // (p2c_ewma tries every replica once before it has latencies) and is not counted.
    const loads = [
      startLoad(p2c.url, 2, () => ({ query: PRODUCTS_ONLY }), productsOk),
      startLoad(rr.url, 2, () => ({ query: PRODUCTS_ONLY }), productsOk),
    ];
    await sleep(1_000);
    const from = loads.map((l) => l.samples.length);
    const requestsAt = (g: Gateway) => g.pools.get('products')!.stats();
    const before = [requestsAt(p2c.gateway), requestsAt(rr.gateway)];
    await sleep(4_000);
    const after = [requestsAt(p2c.gateway), requestsAt(rr.gateway)];
    const [p2cSamples, rrSamples] = await Promise.all(loads.map((l) => l.stop()));
    await slow.control({ delayMs: 0 });
    const baseP50 = Math.max(baseBefore, await baseline());
    const slowShare = (i: number) => {
      const delta = (u: string) =>
        after[i]!.find((s) => s.url === u)!.requests - before[i]!.find((s) => s.url === u)!.requests;
      return (
        delta(slow.url) /
        Math.max(
          1,
          after[i]!.reduce((n, s) => n + delta(s.url), 0),
        )
      );
    };
    const result = (all: Sample[], i: number) => {
      const samples = all.slice(from[i]);
      const ms = samples.map((s) => s.ms);
      return {
        n: samples.length,
        failed: all.filter((s) => !s.ok).length,
        p50: percentile(ms, 50),
        p99: percentile(ms, 99),
        slowShare: slowShare(i),
      };
    };
    const a = result(p2cSamples!, 0);
    const b = result(rrSamples!, 1);
    const fmt = (r: typeof a) =>
      `${r.n} queries, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, slow replica share ${(r.slowShare * 100).toFixed(1)}%`;
    log(
      `slow replica (+200 ms, base p50 ${baseP50.toFixed(1)} ms): p2c_ewma ${fmt(a)}; round_robin ${fmt(b)}`,
    );
    expect(a.failed + b.failed).toBe(0);
    expect(b.slowShare).toBeGreaterThan(0.25);
    expect(b.p99).toBeGreaterThanOrEqual(200);
    await Promise.all([p2c.gateway.close(100), rr.gateway.close(100)]);
    // Latency-aware balancing needs latencies to tell apart: when the machine itself adds a good part of
    // the slow replica's delay to every answer (and peak-EWMA sees its stalls as peaks), the comparison
    // says more about the machine than about the balancer.
    const note = `machine too loaded to compare latencies: a fast query took ${baseP50.toFixed(0)} ms at p50 (limit 15 ms)`;
    if (baseP50 > 15) log(note);
    ctx.skip(baseP50 > 15, note);
    expect(a.slowShare).toBeLessThan(b.slowShare / 3);
    // measured p2c/round-robin p99 ratios with a base p50 of 6–12 ms: 0.09–0.43
    expect(a.p99).toBeLessThan(b.p99 * 0.6);
  });

  it('a subgraph slower than its timeout: answer within timeout + margin, error for its fields, data for the rest (T-F3, T-F4)', async () => {
    await Promise.all(reviews.map((r) => r.control({ delayMs: 600, lastDeadlineMs: null })));
    const { gateway, url } = await startGateway({
      ...FAST_CHECKS,
      overrides: { reviews: { timeoutMs: 300 } },
    });
    try {
      // best of 3: what is measured is whether the gateway waits for the subgraph, not the machine's load
      const runs: Awaited<ReturnType<typeof gql>>[] = [];
      for (let i = 0; i < 3; i++) runs.push(await gql(url, FULL));
      const res = runs.reduce((best, r) => (r.ms < best.ms ? r : best));
      const deadlines = (await Promise.all(reviews.map((r) => r.state())))
        .map((s) => s.lastDeadlineMs)
        .filter((d) => d !== null);
      log(
        `timeout 300 ms, subgraph answering in 600 ms: responses in ${runs.map((r) => r.ms.toFixed(0)).join(', ')} ms; deadline header seen by the subgraph ${deadlines.join(', ')} ms`,
      );
      expect(res.status).toBe(200);
      expect(res.ms).toBeLessThan(300 + 250);
      expect(res.body.data).toEqual({
        topProducts: [
          { upc: '1', name: 'Product 1', reviews: null },
          { upc: '2', name: 'Product 2', reviews: null },
        ],
      });
      expect(res.body.errors?.length).toBeGreaterThan(0);
      for (const e of res.body.errors!) {
        expect(e.extensions).toMatchObject({
          code: 'SUBGRAPH_UNAVAILABLE',
          serviceName: 'reviews',
          reason: 'POOL_TIMEOUT',
        });
        expect(e.path?.[0]).toBe('topProducts');
      }
      expect(deadlines.length).toBeGreaterThan(0);
      for (const d of deadlines) expect(d).toBeLessThanOrEqual(300);
      expect(gateway.pools.get('reviews')!.snapshot().retries).toBe(0); // no time left to retry
    } finally {
      await Promise.all(reviews.map((r) => r.control({ delayMs: 0 })));
      await gateway.close(100);
    }
  });

  it('a hung subgraph with the circuit breaker on: fetches fail at once while open, and trials bring traffic back', async () => {
    await Promise.all(reviews.map((r) => r.control({ delayMs: 5_000 })));
    const { gateway, url } = await startGateway({
      ...FAST_CHECKS,
      overrides: {
        reviews: {
          timeoutMs: 300,
          circuitBreaker: {
            enabled: true,
            minRequests: 6,
            windowMs: 10_000,
            openMs: 1_500,
            halfOpenRequests: 2,
          },
        },
      },
    });
    const reviewsPool = gateway.pools.get('reviews')!;
    const received = async () =>
      (await Promise.all(reviews.map((r) => r.state()))).reduce((n, s) => n + s.requests, 0);
    const reviewsNull = [
      { upc: '1', name: 'Product 1', reviews: null },
      { upc: '2', name: 'Product 2', reviews: null },
    ];
    try {
      // six fetches wait out the 300 ms timeout, and the circuit opens
      const slow = await Promise.all(Array.from({ length: 6 }, () => gql(url, FULL)));
      for (const r of slow) expect(r.body.errors?.[0]?.extensions?.reason).toBe('POOL_TIMEOUT');
      expect(reviewsPool.snapshot().circuit).toMatchObject({ state: 'open', opened: 1 });

      // while open: no wait, no request to the subgraph, the other subgraph's data as before
      const before = await received();
      const fast: number[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await gql(url, FULL);
        fast.push(r.ms);
        expect(r.status).toBe(200);
        expect(r.body.data).toEqual({ topProducts: reviewsNull });
        expect(r.body.errors?.[0]?.extensions).toMatchObject({
          code: 'SUBGRAPH_UNAVAILABLE',
          serviceName: 'reviews',
          reason: 'POOL_CIRCUIT_OPEN',
        });
      }
      expect(await received()).toBe(before);
      log(
        `circuit open: answers in ${fast.map((ms) => ms.toFixed(0)).join(', ')} ms against ${slow.map((r) => r.ms.toFixed(0)).join(', ')} ms before it opened`,
      );
      expect(Math.min(...fast)).toBeLessThan(150);

      // the subgraph recovers; after openMs two trial fetches succeed and the circuit closes
      await Promise.all(reviews.map((r) => r.control({ delayMs: 0 })));
      const recovered = performance.now();
      await waitFor(() => reviewsPool.snapshot().circuit?.state !== 'open', 5_000, 'the circuit half-opens');
      for (let i = 0; i < 2; i++) {
        const r = await gql(url, FULL);
        expect(r.body.errors).toBeUndefined();
        expect(r.body.data).toEqual(FULL_DATA);
      }
      expect(reviewsPool.snapshot().circuit).toMatchObject({ state: 'closed', opened: 1 });
      log(`circuit closed ${(performance.now() - recovered).toFixed(0)} ms after the subgraph recovered`);
      const metrics = await (await fetch(`${gateway.adminUrl}/metrics`)).text();
      expect(metrics).toMatch(/gateway_pool_circuit_events_total\{subgraph="reviews",event="rejected"\} 5\b/);
      expect(metrics).toMatch(/gateway_pool_circuit_open\{subgraph="reviews"\} 0\b/);
    } finally {
      await Promise.all(reviews.map((r) => r.control({ delayMs: 0 })));
      await gateway.close(100);
    }
  });

  it('mutations are never executed twice when replicas are killed mid-stream (T-F1)', async () => {
    const { gateway, url } = await startGateway(FAST_CHECKS);
    const before = readRows().length;
    const ids = (i: number) => `m-${i}`;
    const load = startLoad(
      url,
      4,
      (i) => ({ query: ADD_REVIEW, variables: { id: ids(i) } }),
      (body, status) =>
        status === 200 &&
        !body.errors &&
        (body.data?.addReview as { id?: string } | undefined)?.id !== undefined,
    );
    await sleep(700);
    await reviews[1]!.kill();
    await sleep(800);
    await reviews[2]!.kill();
    await sleep(800);
    const samples = await load.stop();

    const rows = readRows().slice(before);
    const count = new Map<string, number>();
    for (const id of rows) count.set(id, (count.get(id) ?? 0) + 1);
    const ok = samples.filter((s) => s.ok);
    const failed = samples.filter((s) => !s.ok);
    const twice = [...count].filter(([, n]) => n > 1);
    log(
      `mutations: ${samples.length} sent, ${ok.length} succeeded, ${failed.length} failed (killed mid-flight: executed ${failed.filter((s) => count.has(ids(s.i))).length}, not executed ${failed.filter((s) => !count.has(ids(s.i))).length}); ${rows.length} rows written, ${twice.length} written twice; failovers ${gateway.pools.get('reviews')!.snapshot().failovers}`,
    );
    expect(twice).toEqual([]);
    for (const s of ok) expect(count.get(ids(s.i)), ids(s.i)).toBe(1);
    expect(rows.length).toBeLessThanOrEqual(samples.length);
    expect(ok.length).toBeGreaterThan(samples.length / 2);
    await gateway.close(100);
  });

  it('every replica of a subgraph down: SUBGRAPH_UNAVAILABLE fast, with the other subgraph’s data', async () => {
    await reviews[0]!.kill(); // 1 and 2 were killed above: no reviews replica is left
    const check = async (url: string) => {
      const res = await gql(url, FULL);
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual({
        topProducts: FULL_DATA.topProducts.map((p) => ({ ...p, reviews: null })),
      });
      expect(res.body.errors?.[0]?.extensions).toMatchObject({
        code: 'SUBGRAPH_UNAVAILABLE',
        serviceName: 'reviews',
      });
      return res.ms;
    };
    // a gateway that knew the replicas alive, and one that starts with all of them dead
    const { gateway: known, url: knownUrl } = await startGateway(FAST_CHECKS);
    await gql(knownUrl, FULL);
    const first = await check(knownUrl);
    await sleep(600); // active checks mark them all unhealthy: panic mode tries every one, each refused
    const later = await check(knownUrl);
    const { url: freshUrl } = await startGateway(FAST_CHECKS);
    const fresh = await check(freshUrl);
    log(
      `all reviews replicas down: answered in ${first.toFixed(0)} ms, ${later.toFixed(0)} ms once marked unhealthy, ${fresh.toFixed(0)} ms from a fresh gateway`,
    );
    // "fast" means no hang: not the 5 s connect timeout, not the 30 s fetch timeout
    for (const ms of [first, later, fresh]) expect(ms).toBeLessThan(2_000);

    const view = poolAdminView(known.pools);
    const reviewsView = view.pools.find((p) => p.name === 'reviews')!;
    expect(reviewsView.replicas.every((r) => r.state === 'unhealthy' || r.state === 'ejected')).toBe(true);
    expect(reviewsView.panic).toBe(true);
    expect(JSON.parse(JSON.stringify(view))).toEqual(view);
  });
});

function readRows(): string[] {
  try {
    return readFileSync(rowsFile, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}
