import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../../scripts/stack.ts';
import { SAMPLE_QUERY } from '../fixtures/sample-query.ts';
import { type OpenLoopSample, percentile, rssMb, runOpenLoop } from './lib/open-loop.ts';

// Overload (docs/reliability.md#overload): the whole stack on embedded defaults (one replica per subgraph,
// to start fast), the sample query. Measures the unloaded p99 and the sustainable rate, then offers 5×
// that rate open-loop, with keep-alive clients and with a new connection per request, and prints what
// the clients saw. It asserts only what holds on a busy shared machine: the excess is refused with 503
// (never another 5xx, never a reset), fast, the admitted keep flowing, and the gateway's memory stays
// bounded. The figures it prints are the acceptance numbers of issue 17.
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BODY = JSON.stringify({ query: SAMPLE_QUERY, variables: { first: 5 } });
const QUEUE_TIMEOUT_MS = 50;
const PHASE_MS = 8_000;
/** The limit's adaptation at the flood's start: requests sent after it are the steady state. */
const SETTLE_MS = 2_000;
/** Below this sustained rate (req/s) the machine is too loaded for the scenario to judge anything. */
const MIN_JUDGED_RATE = 15;

let stack: Stack | undefined;
const stateDir = join(ROOT, '.tollgate', `overload-${process.pid}`);
/**
 * As deployed, the gateway has a core of its own: pinned to CPU 1, the replicas, the database and this
 * process (the load generator) to CPU 0, where there are two cores and taskset. Unpinned, the flood's
 * subgraph work and client loop starve the gateway's event loop, and what is measured is the machine.
 */
const PIN = availableParallelism() >= 2 && existsSync('/usr/bin/taskset');
const ALL_CPUS = `0-${availableParallelism() - 1}`;

beforeAll(async () => {
  if (PIN) execFileSync('/usr/bin/taskset', ['-pc', '0', String(process.pid)], { stdio: 'ignore' });
  stack = await startStack({
    ...(PIN ? { cpus: { gateway: '1', others: '0' } } : {}),
    port: 0,
    host: '127.0.0.1',
    dataDir: 'memory',
    stateDir,
    replicas: 1,
    services: ['accounts', 'products', 'inventory', 'reviews'],
    // budgets are not what this measures: no client is throttled
    gatewayConfig: {
      ratelimit: { enabled: false },
      server: { admission: { queueTimeoutMs: QUEUE_TIMEOUT_MS } },
    },
    readyTimeoutMs: 120_000,
  });
});
afterAll(async () => {
  if (PIN) execFileSync('/usr/bin/taskset', ['-pc', ALL_CPUS, String(process.pid)], { stdio: 'ignore' });
  await stack?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

/** `concurrency` clients, each sending the next request when the last is answered, for `ms`. */
async function closedLoop(url: string, concurrency: number, ms: number) {
  const latencies: number[] = [];
  let failed = 0;
  const end = performance.now() + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: BODY,
        });
        await res.arrayBuffer();
        if (res.status === 200) latencies.push(performance.now() - t0);
        else failed++;
      }
    }),
  );
  return { latencies, failed, rate: (latencies.length * 1000) / ms };
}

/** The admission limit and the 503 refusals by reason, from /metrics on the gateway's admin listener. */
async function admissionView(adminUrl: string): Promise<string> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  const limit = /^gateway_admission_limit (\S+)/m.exec(text)?.[1] ?? '-';
  const reasons = [
    ...text.matchAll(/^gateway_http_refusals_total\{status="503",reason="([a-z_]+)"\} (\d+)/gm),
  ]
    .map((m) => `${m[1]} ${m[2]}`)
    .join(', ');
  return `limit now ${limit}; 503s so far by reason: ${reasons || 'none'}`;
}

const ms = (n: number) => `${Number.isFinite(n) ? n.toFixed(1) : '-'} ms`;

function summarize(samples: OpenLoopSample[], unloadedP99: number) {
  const ok = samples.filter((s) => s.status === 200);
  const refused = samples.filter((s) => s.status === 503);
  const other5xx = samples.filter((s) => s.status >= 500 && s.status !== 503);
  const noAnswer = samples.filter((s) => s.status === 0);
  const excess = samples.length - ok.length;
  const fast = refused.filter((s) => s.latencyMs < 50).length;
  return {
    sent: samples.length,
    ok: ok.length,
    refused: refused.length,
    other5xx: other5xx.length,
    noAnswer: noAnswer.length,
    // a connection reset or refused, as opposed to the client giving up (CLIENT_TIMEOUT, CLIENT_BACKLOG)
    resets: noAnswer.filter((s) => !s.error?.startsWith('CLIENT_')).length,
    errors: [...new Set(noAnswer.map((s) => s.error))].join(',') || '-',
    excessShare503: excess ? refused.length / excess : 1,
    excessShareFast503: excess ? fast / excess : 1,
    p50_503: percentile(
      refused.map((s) => s.latencyMs),
      50,
    ),
    p99_503: percentile(
      refused.map((s) => s.latencyMs),
      99,
    ),
    admittedP50: percentile(
      ok.map((s) => s.latencyMs),
      50,
    ),
    admittedP99: percentile(
      ok.map((s) => s.latencyMs),
      99,
    ),
    steadyP99: percentile(
      ok.filter((s) => s.at >= SETTLE_MS).map((s) => s.latencyMs),
      99,
    ),
    target: 3 * unloadedP99 + QUEUE_TIMEOUT_MS,
  };
}

describe('chaos: overload', () => {
  it('5× the sustainable rate: the excess is refused fast with 503, the admitted keep flowing, memory stays bounded', async (ctx) => {
    const { url, gateway } = stack!;
    await closedLoop(url, 2, 1_000); // warm: plans cached, connections open
    const unloaded = await closedLoop(url, 1, 3_000);
    const unloadedP50 = percentile(unloaded.latencies, 50);
    const unloadedP99 = percentile(unloaded.latencies, 99);
    const sustained = await closedLoop(url, 8, 4_000);
    // A machine so loaded that the stack sustains a handful of requests a second leaves the gateway a
    // sliver of a core: nothing it does can be judged there (it was seen answering nothing for 10 s).
    if (sustained.rate < MIN_JUDGED_RATE) {
      const load = loadavg()
        .map((l) => l.toFixed(2))
        .join(' ');
      console.log(
        `overload: skipped, the stack sustains ${sustained.rate.toFixed(1)} req/s here (under ${MIN_JUDGED_RATE}; load average ${load}): too loaded to judge`,
      );
      ctx.skip();
    }
    const rate = Math.round(sustained.rate);
    const rssBefore = await rssMb(gateway.pid);
    const lines = [
      `overload: load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(
          ' ',
        )} (2 cores shared); ${PIN ? 'gateway pinned to CPU 1, replicas, database and load generator to CPU 0' : 'unpinned'}`,
      `  unloaded: p50 ${ms(unloadedP50)}, p99 ${ms(unloadedP99)}; sustainable ${sustained.rate.toFixed(0)} req/s (8 closed-loop clients, p99 ${ms(percentile(sustained.latencies, 99))})`,
      `  offered: ${rate * 5} req/s open-loop for ${PHASE_MS / 1000} s per client kind; RSS before ${rssBefore.toFixed(0)} MB`,
    ];
    const results: Record<string, ReturnType<typeof summarize> & { rss: number }> = {};
    for (const connections of ['keep-alive', 'new-connection'] as const) {
      const samples = await runOpenLoop({
        url,
        body: BODY,
        rate: rate * 5,
        durationMs: PHASE_MS,
        connections,
      });
      const s = { ...summarize(samples, unloadedP99), rss: await rssMb(gateway.pid) };
      results[connections] = s;
      lines.push(
        `  ${connections}: sent ${s.sent}, 200 ${s.ok}, 503 ${s.refused}, other 5xx ${s.other5xx}, no answer ${s.noAnswer} (${s.errors})`,
        `    excess answered 503: ${(s.excessShare503 * 100).toFixed(1)}% (under 50 ms: ${(s.excessShareFast503 * 100).toFixed(1)}%); 503 p50 ${ms(s.p50_503)}, p99 ${ms(s.p99_503)}`,
        `    admitted p50 ${ms(s.admittedP50)}, p99 ${ms(s.admittedP99)} (sent after the first ${SETTLE_MS / 1000} s: p99 ${ms(s.steadyP99)}) vs 3 × unloaded p99 + queue deadline = ${ms(s.target)}; RSS after ${s.rss.toFixed(0)} MB`,
        `    gateway: ${await admissionView(stack!.adminUrl)}`,
      );
      await new Promise((r) => setTimeout(r, 1_000)); // let the queue and the limit settle
    }
    console.log(lines.join('\n'));
    for (const [kind, s] of Object.entries(results)) {
      expect(s.other5xx, `${kind}: 5xx other than 503`).toBe(0);
      expect(s.ok, `${kind}: admitted requests`).toBeGreaterThan(0);
      expect(s.refused, `${kind}: 503s`).toBeGreaterThan(0);
      // the 503s are fast: cheaper than serving. (Under 50 ms is the target on an idle machine; a busy
      // shared one slows the gateway and the client loop alike, so the bound here is relative.)
      expect(s.p50_503, `${kind}: 503 p50 under the admitted p50`).toBeLessThan(s.admittedP50);
      // the excess is answered, never reset (a client that gives up after 10 s on a starved machine is
      // printed, not failed: the share of the excess answered 503 is the figure to read)
      expect(s.resets, `${kind}: connections reset or refused`).toBe(0);
      expect(s.rss - rssBefore, `${kind}: RSS growth (MB)`).toBeLessThan(300);
    }
    // and the gateway serves as before once the flood is over
    const after = await closedLoop(url, 1, 1_000);
    expect(after.failed).toBe(0);
  });
});
