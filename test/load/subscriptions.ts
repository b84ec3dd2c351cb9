// `npm run bench -- --subscriptions`: many concurrent subscribers on one gateway process (issue 16).
// Starts the real stack (scripts/stack.ts: embedded PostgreSQL, one replica per subgraph), opens N
// graphql-ws subscribers of the acceptance subscription on the gateway (each its own WebSocket), then
// sends addReview mutations one at a time and times, per mutation, how long until the last subscriber
// had its event. Reports the gateway's RSS per subscriber (RSS with them open − RSS before, ÷ N).
//
//   node --import tsx test/load/subscriptions.ts [--subscribers 10000] [--mutations 5] [--connect-batch 500]
//
// The subscribers run in this process, beside the gateway on the same machine: the figures include
// the load generator's share of the CPU.
import { readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { loadDevSigningKey, signDevToken } from '../../gateway/src/auth/index.ts';
import { DEV_AUDIENCE, DEV_ISSUER, devKeysDir } from '../../scripts/dev-auth.ts';
import { startStack } from '../../scripts/stack.ts';
import { formatTable } from './lib/report.ts';

const SUBSCRIPTION =
  'subscription { reviewAdded { body rating author { username } product { name price } } }';
const MUTATION = 'mutation($body: String!) { addReview(upc: "000001", body: $body, rating: 4) { id } }';

const rssOf = (pid: number): number => {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;

export async function runSubscriptions(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      subscribers: { type: 'string', default: '10000' },
      mutations: { type: 'string', default: '6' },
      'connect-batch': { type: 'string', default: '500' },
    },
    strict: true,
  });
  const count = Number(values.subscribers);
  const mutations = Number(values.mutations);
  const batch = Number(values['connect-batch']);
  const stateDir = `${process.cwd()}/.tollgate/bench-subscriptions-${process.pid}`;
  console.error(`starting the stack (embedded PostgreSQL, one replica per subgraph)…`);
  const stack = await startStack({
    port: 0,
    host: '127.0.0.1',
    dataDir: 'memory',
    replicas: 1,
    stateDir,
    gatewayConfig: {
      // production's sampling (test/load/configs/production.yaml): 10% of traces
      telemetry: { sampler: 'parentbased_traceidratio', samplerRatio: 0.1 },
      subscriptions: { maxPerPrincipal: count + 10, maxConnections: count + 100 },
      ratelimit: {
        defaultPlan: 'bench',
        plans: {
          anonymous: { capacity: 1000, restoreRate: 50 },
          bench: { capacity: 1e12, restoreRate: 1e12 },
        },
      },
    },
  });
  const clients: ReturnType<typeof createClient>[] = [];
  try {
    const key = await loadDevSigningKey(devKeysDir(stack.stateDir));
    const token = await signDevToken(
      { sub: '3', plan: 'bench' },
      { issuer: DEV_ISSUER, audience: DEV_AUDIENCE, key },
    );
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const gatewayPid = stack.gateway.pid!;
    await sleep(2000);
    const rssBefore = rssOf(gatewayPid);
    const received: number[][] = Array.from({ length: mutations }, () => []);
    let current = -1;
    let sent = 0;
    const ws = stack.url.replace(/^http/, 'ws');
    const started = Date.now();
    for (let i = 0; i < count; i += batch) {
      const acks: Promise<void>[] = [];
      for (let j = i; j < Math.min(count, i + batch); j++) {
        let acked!: () => void;
        acks.push(new Promise<void>((r) => (acked = r)));
        const client = createClient({
          url: ws,
          webSocketImpl: WebSocket,
          lazy: false,
          retryAttempts: 0,
          connectionParams: { authorization: headers.authorization },
          on: { connected: () => acked() },
        });
        clients.push(client);
        client.subscribe(
          { query: SUBSCRIPTION },
          {
            next: () => {
              if (current >= 0) received[current]!.push(performance.now() - sent);
            },
            error: (e) => console.error(`subscriber ${j}: ${JSON.stringify(e).slice(0, 200)}`),
            complete: () => {},
          },
        );
      }
      await Promise.all(acks);
      console.error(`${Math.min(count, i + batch)} subscribers connected`);
    }
    const connectSeconds = (Date.now() - started) / 1000;
    await sleep(3000); // every subscribe message read and every upstream joined
    const rssWith = rssOf(gatewayPid);
    const rows: string[][] = [];
    // mutation 0 warms the path up (JIT, first plan of the entity fetches): reported, not counted
    for (let m = 0; m < mutations; m++) {
      current = m;
      sent = performance.now();
      const res = await fetch(stack.url, {
        method: 'POST',
        headers,
        body: JSON.stringify({ query: MUTATION, variables: { body: `bench ${Date.now()} ${m}` } }),
      });
      if (!res.ok) throw new Error(`mutation: ${res.status} ${await res.text()}`);
      const deadline = Date.now() + 30_000;
      while (received[m]!.length < count && Date.now() < deadline) await sleep(20);
      const sorted = [...received[m]!].sort((a, b) => a - b);
      rows.push([
        m === 0 ? 'warm-up' : String(m),
        String(sorted.length),
        percentile(sorted, 50).toFixed(0),
        percentile(sorted, 99).toFixed(0),
        (sorted.at(-1) ?? Number.NaN).toFixed(0),
      ]);
      await sleep(500);
    }
    const rssAfter = rssOf(gatewayPid);
    console.log(
      `machine: ${availableParallelism()} cores (${cpus()[0]?.model ?? '?'}), load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}; the subscribers run on the same machine`,
    );
    console.log(`${count} subscribers connected in ${connectSeconds.toFixed(1)} s`);
    console.log(formatTable(['mutation', 'received', 'p50 ms', 'p99 ms', 'last ms'], rows, [0, 1, 2, 3, 4]));
    const perSubscriber = (rssWith - rssBefore) / count;
    console.log(
      `gateway RSS: ${(rssBefore / 2 ** 20).toFixed(0)} MB before, ${(rssWith / 2 ** 20).toFixed(0)} MB with ${count} subscribers, ${(rssAfter / 2 ** 20).toFixed(0)} MB after the events`,
    );
    console.log(`RSS per subscriber: ${(perSubscriber / 1024).toFixed(1)} KB (target ≤ 20 KB)`);
    const worst = Math.max(...rows.slice(1).map((r) => Number(r[3])));
    console.log(
      `mutation → last of ${count} subscribers, worst p99 over the ${mutations - 1} mutations after the warm-up: ${worst} ms (target ≤ 1000 ms)`,
    );
  } finally {
    await Promise.allSettled(clients.map((c) => c.dispose()));
    await stack.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runSubscriptions(process.argv.slice(2)).then(
    () => process.exit(0),
    (error) => {
      console.error(`bench --subscriptions: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
