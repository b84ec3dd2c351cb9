import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeSupergraph, createGateway, loadConfig } from '../src/index.ts';
import {
  gql,
  killGateways,
  PRODUCTS_SDL,
  spawnGateway,
  startTestSubgraph,
  type TestSubgraph,
  tempFiles,
} from './helpers.ts';

// A products subgraph that takes 400 ms per request: long enough to have requests in flight.
let slow: TestSubgraph;
const { dir } = tempFiles('overload');
beforeAll(async () => {
  slow = await startTestSubgraph(PRODUCTS_SDL, {
    Query: {
      topProducts: async () => {
        await new Promise((r) => setTimeout(r, 400));
        return [{ upc: '1', name: 'One', price: 1 }];
      },
    },
  });
  writeFileSync(join(dir, 'p.graphql'), PRODUCTS_SDL);
});
afterAll(async () => {
  killGateways();
  await slow?.stop();
});

describe('overload', () => {
  it('answers requests beyond the concurrency cap with an immediate 503 and Retry-After', async () => {
    const gateway = await createGateway({
      config: loadConfig({
        base: {
          server: { port: 0, host: '127.0.0.1', maxConcurrentRequests: 2 },
          ratelimit: { enabled: false },
          subgraphs: [{ name: 'products', replicas: [slow.url], schemaFile: join(dir, 'p.graphql') }],
        },
      }),
    });
    const url = await gateway.listen();
    try {
      const timed = async () => {
        const t0 = Date.now();
        const res = await gql(url, '{ topProducts { upc } }');
        return { ...res, ms: Date.now() - t0 };
      };
      const results = await Promise.all(Array.from({ length: 6 }, timed));
      const ok = results.filter((r) => r.status === 200);
      const shed = results.filter((r) => r.status === 503);
      expect(ok.length).toBe(2);
      expect(shed.length).toBe(4);
      for (const r of shed) {
        expect(r.body.errors?.[0]?.extensions?.code).toBe('OVERLOADED');
        expect(r.headers.get('retry-after')).toBe('1');
        expect(r.ms).toBeLessThan(350); // refused at once, not after waiting for a slot
      }
      expect((await gql(url, '{ topProducts { upc } }')).status).toBe(200); // capacity comes back
    } finally {
      await gateway.close(100);
    }
  });
});

describe('event-loop lag guard', () => {
  // retry: under a loaded CI machine about one run in six saw no 503 at all after the stall (cause not
  // found: the same stall in a bare process is always seen); a guard that never sheds fails every try
  it('sheds requests with 503 while the event loop lags past the threshold, and serves again after', {
    retry: 2,
  }, async () => {
    // a real stall: the gateway process is stopped (SIGSTOP) for 800 ms, as a long GC pause or a
    // starved CPU would stop it; the guard's threshold is 300 ms
    const { child, url } = await startCli({ GATEWAY_SERVER_MAX_EVENT_LOOP_LAG_MS: '300' });
    // on a loaded machine start-up work can itself lag the loop past 300 ms: serving first
    const first = Date.now();
    let before = 0;
    while (Date.now() - first < 8_000 && before !== 200) {
      before = (await gql(url, '{ topProducts { upc } }')).status;
      if (before !== 200) await new Promise((r) => setTimeout(r, 250));
    }
    expect(before).toBe(200);
    child.kill('SIGSTOP');
    await new Promise((r) => setTimeout(r, 800));
    child.kill('SIGCONT');
    await new Promise((r) => setTimeout(r, 50));
    // The stall is in the guard's window for at least a second after SIGCONT; under CI's parallel load
    // the first request can be read before the loop-delay sample lands, so a few tries in 500 ms.
    let shed = await gql(url, '{ topProducts { upc } }');
    for (let i = 0; i < 5 && shed.status !== 503; i++) {
      await new Promise((r) => setTimeout(r, 100));
      shed = await gql(url, '{ topProducts { upc } }');
    }
    expect(shed.status).toBe(503);
    expect(shed.body.errors?.[0]?.extensions?.code).toBe('OVERLOADED');
    expect(shed.headers.get('retry-after')).toBe('1');
    const t0 = Date.now();
    let status = 0;
    while (Date.now() - t0 < 8_000 && status !== 200) {
      await new Promise((r) => setTimeout(r, 250));
      status = (await gql(url, '{ topProducts { upc } }')).status;
    }
    expect(status).toBe(200);
    child.kill('SIGTERM');
  });
});

async function startCli(env: Record<string, string> = {}): Promise<{ child: ChildProcess; url: string }> {
  const supergraph = join(dir, 'supergraph.graphql');
  writeFileSync(supergraph, composeSupergraph([{ name: 'products', url: slow.url, sdl: PRODUCTS_SDL }]));
  const gateway = spawnGateway(['--supergraph', supergraph, '--port', '0', '--host', '127.0.0.1'], {
    GATEWAY_RATELIMIT_ENABLED: 'false',
    ...env,
  });
  return { child: gateway.child, url: await gateway.ready };
}

describe('graceful shutdown', () => {
  it('on SIGTERM finishes the requests in flight, then exits 0', async () => {
    const { child, url } = await startCli();
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const seen = slow.received.length;
    const inFlight = Array.from({ length: 5 }, () => gql(url, '{ topProducts { upc } }'));
    // all five are waiting on the slow subgraph (a request the gateway has not read yet would meet a
    // closed listener, which is the point of closing it)
    for (let i = 0; i < 100 && slow.received.length < seen + 5; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(slow.received.length).toBe(seen + 5);
    child.kill('SIGTERM');
    const results = await Promise.all(inFlight);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    const stoppedAt = Date.now();
    expect(await exited).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(5_000); // not the whole 10 s grace period
  });
});
