import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLoad, type Sample } from '../chaos/lib/load.ts';
import { privateRedisUnavailable } from '../chaos/lib/private-redis.ts';
import { sleep } from '../chaos/lib/processes.ts';
import { report } from '../chaos/lib/report.ts';
import { BUDGET, type Cluster, type Stopped, startCluster } from './lib/cluster.ts';
import { clusterUnavailable } from './lib/netns.ts';

// Many gateways as one: three gateway processes, each in a network namespace of its own, behind
// HAProxy in TCP mode (the stand-in for a cloud NLB, health-checking /health/ready), on one Redis and
// one PostgreSQL. Each scenario prints what the clients saw (docs/reliability.md, "Cluster"). Traffic stays
// on this machine: loopback and the namespaces' veth addresses on 10.231.7.0/24.
const unavailable = clusterUnavailable() ?? (process.env.REDIS_URL ? undefined : privateRedisUnavailable());

/** A products-only query (the stack runs products alone): cheap, and no write to retry or not. */
const QUERY = {
  kind: 'query topProducts',
  query: 'query Top { topProducts(first: 3) { upc name price } }',
  mutation: false,
} as const;
/** One object, one scalar: estimated and actual cost 1, so the budget admits exactly its capacity. */
const ONE_POINT = 'query One { product(upc: "000001") { name } }';
const LOAD = { concurrency: 8, thinkMs: 20, timeoutMs: 15_000 } as const;

describe.skipIf(unavailable)(
  `cluster: 3 gateways in network namespaces behind HAProxy${unavailable ? ` (skipped: ${unavailable})` : ''}`,
  () => {
    let cluster: Cluster;

    beforeAll(async () => {
      cluster = await startCluster();
    });
    afterAll(async () => {
      await cluster?.stop();
    });

    const counter = async (name: 'sessions' | 'retries' | 'redispatches') =>
      Object.fromEntries(
        Object.entries(await cluster.balancer.servers()).map(([server, s]) => [server, s[name]]),
      );
    const sessions = () => counter('sessions');
    const delta = (before: Record<string, number>, after: Record<string, number>) =>
      Object.fromEntries(Object.entries(after).map(([name, n]) => [name, n - (before[name] ?? 0)]));
    const failures = (samples: readonly Sample[]) =>
      samples
        .filter((s) => !s.ok)
        .map((s) => ({ at: s.startedAt, status: s.status, code: s.code, message: s.message }));

    it('(a) rolling restart of all three under steady load: no failed request, every gateway exits 0', async () => {
      await cluster.allUp();
      const events: Record<string, number> = {};
      const exits: Record<string, number | string> = {};
      const stuck: Record<string, Stopped['stuck']> = {};
      const before = await sessions();
      const redispatchedBefore = await counter('redispatches');
      const loggedBefore = apolloStopped(cluster);
      const samples = await runLoad(
        { urls: [cluster.balancer.url], durationMs: 3_000, recoveryMs: 1_000, ...LOAD, next: () => QUERY },
        async (t) => {
          await sleep(1_000);
          for (const g of cluster.gateways) {
            events[`${g.name} SIGTERM`] = t();
            const stopped = await g.stop('SIGTERM');
            exits[g.name] = stopped.exit;
            if (stopped.stuck) stuck[g.name] = stopped.stuck;
            events[`${g.name} exited`] = t();
            await g.start();
            events[`${g.name} started`] = t();
            await cluster.balancer.waitFor(g.name, 'UP');
            events[`${g.name} UP`] = t();
            await sleep(500);
          }
        },
      );
      const served = delta(before, await sessions());
      // connections a stopping (or not yet started) gateway refused, which HAProxy sent to another one
      const redispatched = delta(redispatchedBefore, await counter('redispatches'));
      const sigterms = Object.entries(events)
        .filter(([what]) => what.endsWith('SIGTERM'))
        .map(([, at]) => at);
      // SIGTERM has one owner (the gateway's drain; Apollo Server's own signal handler is off), so a
      // restart costs no request: a new connection to a stopping gateway is refused and redispatched,
      // and one already tunnelled to it is served or told to close.
      const failed = failures(samples);
      const apollo500 = failed.filter(
        (f) => f.status === 500 && sigterms.some((at) => f.at >= at - 100 && f.at <= at + 2_000),
      );
      const other = failed.filter((f) => !apollo500.includes(f));
      const logged = apolloStopped(cluster) - loggedBefore;
      const result = report('cluster (a) rolling restart of 3 gateways behind HAProxy', samples, events, {
        exits,
        stuckAfterDrain: stuck,
        haproxySessions: served,
        haproxyRedispatched: redispatched,
        apolloStopped500: apollo500.length,
        apolloStoppedLogged: logged,
        otherFailures: other.slice(0, 10),
        redis: cluster.redisKind,
        database: cluster.databaseKind,
      });

      expect(result.total.requests).toBeGreaterThan(100);
      expect(failed).toEqual([]);
      expect(logged).toBe(0);
      expect(exits).toEqual(Object.fromEntries(cluster.gateways.map((g) => [g.name, 0])));
      // the load went through every gateway
      for (const n of Object.values(served)) expect(n).toBeGreaterThan(0);
    });

    it('(b) kill -9 one gateway: HAProxy takes it out; clients that retry once see no failure', async () => {
      await cluster.allUp();
      const victim = cluster.gateways[1]!;
      const events: Record<string, number> = {};
      const redispatchedBefore = await counter('redispatches');
      let killedAt = 0;
      const samples = await runLoad(
        {
          urls: [cluster.balancer.url],
          durationMs: 4_000,
          recoveryMs: 1_000,
          ...LOAD,
          attempts: 2,
          next: () => QUERY,
        },
        async (t) => {
          await sleep(1_000);
          killedAt = t();
          events[`${victim.name} SIGKILL`] = killedAt;
          await victim.stop('SIGKILL');
          await cluster.balancer.waitFor(victim.name, 'DOWN', 10_000);
          events[`${victim.name} DOWN`] = t();
        },
      );
      const retried = samples.filter((s) => s.attempts.length > 1);
      const result = report('cluster (b) kill -9 one of 3 gateways behind HAProxy', samples, events, {
        markedDownMs: events[`${victim.name} DOWN`]! - killedAt,
        haproxyRedispatched: delta(redispatchedBefore, await counter('redispatches')),
        retried: retried.length,
        firstAttempts: retried.map((s) => s.attempts[0]!.detail),
        failures: failures(samples).slice(0, 10),
      });
      // put it back for the next scenario
      await victim.start();
      await cluster.allUp();

      expect(result.total.requests).toBeGreaterThan(100);
      expect(failures(samples)).toEqual([]);
      // at most a few checks' worth: 2 failed checks 200 ms apart, on a busy machine
      expect(events[`${victim.name} DOWN`]! - killedAt).toBeLessThan(5_000);
    });

    it('(c) 300 concurrent requests spread over the three, one principal: exactly the budget admitted', async () => {
      await cluster.allUp();
      const before = await sessions();
      const t0 = Date.now();
      // a new connection per request, so HAProxy spreads them (round robin) over the three gateways
      const answers = await Promise.all(Array.from({ length: 300 }, () => post(cluster, ONE_POINT)));
      const tookMs = Date.now() - t0;
      const served = delta(before, await sessions());
      const byStatus: Record<string, number> = {};
      for (const a of answers) byStatus[a.status] = (byStatus[a.status] ?? 0) + 1;
      const admitted = answers.filter((a) => a.status === 200);
      const costs = new Set(admitted.map((a) => JSON.stringify(a.cost)));
      console.log(
        [
          'cluster: (c) 300 concurrent requests of one principal over 3 gateways behind HAProxy',
          `  budget ${JSON.stringify(BUDGET)}, query cost ${[...costs].join(' ')}`,
          `  statuses ${JSON.stringify(byStatus)} in ${tookMs} ms; HAProxy sessions per gateway ${JSON.stringify(served)}`,
          `  429 codes ${JSON.stringify([...new Set(answers.filter((a) => a.status === 429).map((a) => a.code))])}`,
          `  other codes ${JSON.stringify(answers.filter((a) => a.status !== 200 && a.status !== 429).map((a) => `${a.status} ${a.code}`))}`,
        ].join('\n'),
      );

      expect(byStatus).toEqual({ 200: BUDGET.capacity, 429: 300 - BUDGET.capacity });
      expect([...costs]).toEqual([JSON.stringify({ requested: 1, actual: 1 })]);
      expect(answers.filter((a) => a.status === 429).every((a) => a.code === 'RATE_LIMITED')).toBe(true);
      // every gateway took part: the budget is one across them, not one per gateway
      expect(Object.values(served)).toHaveLength(3);
      for (const n of Object.values(served)) expect(n).toBeGreaterThanOrEqual(50);
    });
  },
);

const APOLLO_STOPPED =
  /Cannot execute GraphQL operations (after the server has stopped|while the server is stopping)/;

/** How many requests the gateways logged as failed because Apollo Server had already stopped. */
function apolloStopped(cluster: Cluster): number {
  return cluster.gateways
    .flatMap((g) => g.log().split('\n'))
    .filter((l) => l.includes('masked unexpected error') && APOLLO_STOPPED.test(l)).length;
}

interface Answer {
  status: number;
  code: string | undefined;
  cost: { requested: unknown; actual: unknown } | undefined;
}

/** One POST on a connection of its own (no keep-alive agent), through the balancer. */
function post(cluster: Cluster, query: string): Promise<Answer> {
  const url = new URL(cluster.balancer.url);
  const body = JSON.stringify({ query });
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        agent: false,
        timeout: 30_000,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          authorization: `Bearer ${cluster.token}`,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          text += d;
        });
        res.on('end', () => {
          const parsed = (() => {
            try {
              return JSON.parse(text) as {
                errors?: { extensions?: { code?: string } }[];
                extensions?: { cost?: { requestedQueryCost?: unknown; actualQueryCost?: unknown } };
              };
            } catch {
              return {};
            }
          })();
          const cost = parsed.extensions?.cost;
          resolve({
            status: res.statusCode ?? 0,
            code: parsed.errors?.[0]?.extensions?.code,
            cost: cost ? { requested: cost.requestedQueryCost, actual: cost.actualQueryCost } : undefined,
          });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer within 30 s')));
    req.on('error', reject);
    req.end(body);
  });
}
