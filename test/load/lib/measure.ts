// One measured window: warm-up, then load while the gateway's CPU (from /proc) and the subgraph
// requests are counted, waiting until the gateway is idle before and after.
import type { Backend } from './backend.ts';
import type { Checked } from './check.ts';
import { type LoadResult, runLoad } from './load.ts';
import type { Options } from './options.ts';
import { treeCpuMs as cpuMs, treeRssBytes as rssBytes } from './processes.ts';
import { type BenchQuery, requestBody } from './queries.ts';
import type { Cell } from './report.ts';
import type { RunningTarget } from './targets.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until the target has finished the requests autocannon abandoned, so they land on nobody's window. */
export async function settle(pid: number): Promise<void> {
  // Idle = no CPU tick for 300 ms in a row. Gives up after 30 s (a gateway with a busy background timer).
  let last = cpuMs(pid);
  let quiet = 0;
  for (let i = 0; i < 300 && quiet < 3; i++) {
    await sleep(100);
    const now = cpuMs(pid);
    quiet = now === last ? quiet + 1 : 0;
    last = now;
  }
}

export async function measure(
  t: RunningTarget,
  q: BenchQuery,
  checked: Checked,
  backend: Backend,
  options: Pick<Options, 'connections' | 'warmupSec' | 'durationSec'>,
  round: number,
): Promise<Cell> {
  const base = {
    url: t.url,
    headers: t.prepared.headers,
    requests: [{ body: requestBody(q), expectedData: checked.data }],
    connections: options.connections,
  };
  if (options.warmupSec > 0) await runLoad({ ...base, durationSec: options.warmupSec });
  await settle(t.child.pid);
  const sg0 = await backend.requests();
  const cpu0 = cpuMs(t.child.pid);
  const t0 = performance.now();
  const load = await runLoad({ ...base, durationSec: options.durationSec });
  const wallMs = performance.now() - t0;
  const cpuWindow = cpuMs(t.child.pid) - cpu0;
  const rss = rssBytes(t.child.pid);
  // Requests still in flight when autocannon stopped are finished by the gateway all the same: wait for
  // them, and divide all the CPU and subgraph fetches by all the requests sent.
  await settle(t.child.pid);
  const cpuAll = cpuMs(t.child.pid) - cpu0;
  const sg1 = await backend.requests();
  return {
    target: t.prepared.id,
    query: q.id,
    round,
    load,
    cpuMs: cpuAll,
    cpuMsWindow: cpuWindow,
    wallMs,
    rssBytes: rss,
    subgraphRequests: sg0 === null || sg1 === null ? null : sg1 - sg0,
  };
}

export const badCount = (l: LoadResult) =>
  l.non2xx + l.socketErrors + l.timeouts + l.errorBodies + l.sampleMismatches;
