import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { PoolError } from './errors.ts';
import { ReplicaPool, type ReplicaPoolOptions } from './replica-pool.ts';

// Hedged attempts and the adaptive attempt timeout in the send loop, against loopback stand-ins. The
// assertions are on outcomes (who answered, what was sent, cancelled and counted), never on timings.

/** A replica stand-in: answers after `delayMs`, counting what it got and what was cancelled under it. */
interface Fake {
  url: string;
  queries: number;
  mutations: number;
  /** Requests whose connection the gateway closed before the answer (a cancelled attempt). */
  cancelled: number;
  delayMs: number;
  /** Delay of queries that ask for `slow` (the others keep `delayMs`). */
  slowDelayMs: number;
}

const servers: Server[] = [];
const pools: ReplicaPool[] = [];
afterEach(async () => {
  // servers first: a pool's close waits for the attempts still out on a hung stand-in
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    s.close();
  }
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

async function fake(): Promise<Fake> {
  const f: Fake = { url: '', queries: 0, mutations: 0, cancelled: 0, delayMs: 0, slowDelayMs: 0 };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      const probe = body.includes('__typename }');
      if (!probe && body.includes('mutation')) f.mutations++;
      else if (!probe) f.queries++;
      const timer = setTimeout(
        () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"data":{"ok":true}}'),
        probe ? 0 : body.includes('slow') ? f.slowDelayMs : f.delayMs,
      );
      res.on('close', () => {
        if (!res.writableFinished) {
          f.cancelled++;
          clearTimeout(timer);
        }
      });
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  f.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  return f;
}

const json = { 'content-type': 'application/json' };
const QUERY = JSON.stringify({ query: '{ ok }' });
const MUTATION = JSON.stringify({ query: 'mutation { ok }' });

function pool(urls: string[], options: ReplicaPoolOptions): ReplicaPool {
  // round robin: which replica a fetch starts on is known; no active checks, no slow start
  const p = new ReplicaPool('products', urls, {
    strategy: 'round_robin',
    healthCheck: { intervalMs: 0 },
    slowStartWindowMs: 0,
    ...options,
    attemptTimeout: { enabled: true, ...options.attemptTimeout },
  });
  pools.push(p);
  return p;
}

/** Fast fetches, so the subgraph has a latency history (hedges and adaptive timeouts need 20). */
async function warm(p: ReplicaPool, n = 40): Promise<void> {
  for (let i = 0; i < n; i++) await p.send(QUERY, json, { idempotent: true });
}

const until = async (pred: () => boolean) => {
  for (let i = 0; i < 200 && !pred(); i++) await new Promise((r) => setTimeout(r, 10));
};

describe('hedged attempts', () => {
  it('a query stuck on a hung replica is answered by a hedge on the other; the stuck attempt is cancelled', async () => {
    const [a, b] = await Promise.all([fake(), fake()]);
    // a budget that has room whatever the warm-up spent of it on a busy machine
    const p = pool([a.url, b.url], {
      attemptTimeout: { enabled: false },
      hedging: { enabled: true, maxExtraPercent: 100, minDelayMs: 30 },
    });
    await warm(p);
    expect(p.snapshot().adaptive.hedgeDelayMs).toBeGreaterThanOrEqual(30);
    const before = p.snapshot();
    const sentToA = a.queries;
    a.delayMs = 60_000;
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await p.send(QUERY, json, { idempotent: true }));
    expect(answers.map((r) => r.replica)).toEqual([b.url, b.url, b.url, b.url]);
    const stuck = a.queries - sentToA;
    expect(stuck).toBeGreaterThanOrEqual(1);
    const s = p.snapshot();
    // every attempt on a was one side of a hedge race (its first attempt, or on a busy machine a hedge
    // of one slow on b), b won each race, and a's attempt was cancelled
    expect(s.hedges - before.hedges).toBeGreaterThanOrEqual(stuck);
    const won = s.hedgesWon - before.hedgesWon;
    expect(won).toBeGreaterThanOrEqual(1);
    expect(s.failed).toBe(0);
    await until(() => a.cancelled === stuck);
    expect(a.cancelled).toBe(stuck);
    // a lost race is no failure for outlier detection (healthy replicas lose races on a busy gateway),
    // but what it took raises the replica's latency estimate, so p2c_ewma steers away from it
    const statsA = p.stats().find((r) => r.url === a.url)!;
    expect(statsA.consecutiveFailures).toBe(0);
    expect(statsA.latency.ewmaMs).toBeGreaterThanOrEqual(30);
  });

  it('a hung replica is ejected once the hedge budget is spent: the adaptive timeout cuts it', async () => {
    const [a, b] = await Promise.all([fake(), fake()]);
    const p = pool([a.url, b.url], { hedging: { enabled: true }, attemptTimeout: { minMs: 100 } });
    await warm(p, 60);
    a.delayMs = 60_000;
    for (let i = 0; i < 30; i++) await p.send(QUERY, json, { idempotent: true });
    expect(p.snapshot().ejections).toBe(1);
    expect(p.stats().find((r) => r.url === a.url)!.state).toBe('ejected');
    const sentToA = a.queries;
    for (let i = 0; i < 5; i++) await p.send(QUERY, json, { idempotent: true });
    expect(a.queries).toBe(sentToA);
    expect(p.snapshot().failed).toBe(0);
  });

  it('mutations are never hedged: sent once, to one replica, and wait for it', async () => {
    const [a, b] = await Promise.all([fake(), fake()]);
    const p = pool([a.url, b.url], { timeoutMs: 800, hedging: { enabled: true, maxExtraPercent: 100 } });
    await warm(p);
    const before = p.snapshot();
    const [queriesA, queriesB] = [a.queries, b.queries];
    a.delayMs = 60_000;
    const results = [];
    for (let i = 0; i < 2; i++)
      results.push(await p.send(MUTATION, json, { idempotent: false }).catch((e: unknown) => e));
    // one went to a and ran into the fetch's deadline (not the adaptive attempt timeout), one to b
    expect(results.filter((r) => r instanceof PoolError).map((e) => (e as PoolError).code)).toEqual([
      'POOL_TIMEOUT',
    ]);
    expect([a.mutations, b.mutations]).toEqual([1, 1]);
    expect([a.queries, b.queries]).toEqual([queriesA, queriesB]);
    const s = p.snapshot();
    expect(s.hedges).toBe(before.hedges);
    expect(s.attemptTimeouts).toBe(0);
  });

  it('stays within the hedge budget when the whole subgraph is slow', async () => {
    const [a, b] = await Promise.all([fake(), fake()]);
    // p50: the delay stays short while the slow answers are a minority of the window
    const p = pool([a.url, b.url], {
      hedging: { enabled: true, delayPercentile: 50, maxExtraPercent: 10 },
      attemptTimeout: { enabled: false },
    });
    await warm(p, 100);
    const warmHedges = p.snapshot().hedges;
    a.delayMs = 80;
    b.delayMs = 80;
    for (let i = 0; i < 20; i++) await p.send(QUERY, json, { idempotent: true });
    // each of the 20 slow queries wanted a hedge; the budget allows 10% of the 101..120 fetches in the
    // window: hedges + 1 <= fetches / 10 as each is asked for
    let allowed = warmHedges;
    for (let f = 101; f <= 120; f++) if ((allowed + 1) * 10 <= f) allowed++;
    expect(allowed).toBeLessThan(warmHedges + 20);
    expect(p.snapshot().hedges).toBe(allowed);
  });

  it('hedging off (the default): no hedge, whatever the latency', async () => {
    const [a, b] = await Promise.all([fake(), fake()]);
    const p = pool([a.url, b.url], { attemptTimeout: { enabled: false } });
    await warm(p);
    a.delayMs = 150;
    for (let i = 0; i < 2; i++) await p.send(QUERY, json, { idempotent: true });
    expect(p.snapshot().hedges).toBe(0);
    expect(a.queries + b.queries).toBe(42);
  });
});

describe('adaptive attempt timeout', () => {
  it('cuts a query stuck on a hung replica and retries it on another', async () => {
    const [a, b] = await Promise.all([fake(), fake()]);
    const p = pool([a.url, b.url], { hedging: { enabled: false }, attemptTimeout: { minMs: 100 } });
    await warm(p);
    expect(p.snapshot().adaptive.attemptTimeoutMs).toBe(100);
    a.delayMs = 60_000;
    const res = await p.send(QUERY, json, { idempotent: true });
    const res2 = await p.send(QUERY, json, { idempotent: true });
    expect([res.replica, res2.replica]).toEqual([b.url, b.url]);
    const s = p.snapshot();
    expect(s.attemptTimeouts).toBe(1);
    expect(s.retries).toBe(1);
    await until(() => a.cancelled === 1);
    expect(a.cancelled).toBe(1);
  });

  it('does not cut a slow attempt on a replica that keeps answering others: busy, not hung', async () => {
    const [a, b] = await Promise.all([fake(), fake()]);
    const p = pool([a.url, b.url], { hedging: { enabled: false }, attemptTimeout: { minMs: 100 } });
    await warm(p);
    expect(p.snapshot().adaptive.attemptTimeoutMs).toBe(100);
    a.slowDelayMs = 450;
    // round robin: the next fetch starts on a
    const slow = p.send(JSON.stringify({ query: '{ slow: ok }' }), json, { idempotent: true });
    // meanwhile a answers other fetches at once
    const t0 = performance.now();
    while (performance.now() - t0 < 400) {
      await p.send(QUERY, json, { idempotent: true });
      await new Promise((r) => setTimeout(r, 10));
    }
    const res = await slow;
    expect(res.replica).toBe(a.url);
    expect(p.snapshot().attemptTimeouts).toBe(0);
    expect(a.cancelled).toBe(0);
    // and the same slow query on a replica that answers nothing else meanwhile is cut and retried on b
    const cut = await p.send(JSON.stringify({ query: '{ slow: ok }' }), json, { idempotent: true });
    const again =
      p.snapshot().attemptTimeouts === 1
        ? cut
        : await p.send(JSON.stringify({ query: '{ slow: ok }' }), json, { idempotent: true });
    expect(again.replica).toBe(b.url);
    expect(p.snapshot().attemptTimeouts).toBe(1);
  });

  it('never cuts the last attempt: with no other replica to try, a slow query still gets its answer', async () => {
    const a = await fake();
    const p = pool([a.url], { hedging: { enabled: false }, attemptTimeout: { minMs: 100 } });
    await warm(p);
    a.delayMs = 300;
    const res = await p.send(QUERY, json, { idempotent: true });
    expect(res.status).toBe(200);
    expect(p.snapshot().attemptTimeouts).toBe(0);
  });

  it('never cuts a mutation', async () => {
    const [a, b] = await Promise.all([fake(), fake()]);
    const p = pool([a.url, b.url], { hedging: { enabled: false }, attemptTimeout: { minMs: 100 } });
    await warm(p);
    a.delayMs = 300;
    b.delayMs = 300;
    const res = await p.send(MUTATION, json, { idempotent: false });
    expect(res.status).toBe(200);
    expect(a.mutations + b.mutations).toBe(1);
    expect(p.snapshot().attemptTimeouts).toBe(0);
  });
});
