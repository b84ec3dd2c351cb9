// `npm run bench` (issues 10 and 20): Tollgate against plain Apollo Gateway and Hive Gateway (both
// planners) on the same supergraph, subgraphs and queries. See test/load/README.md for the method and
// what every column means.
//
//   node --import tsx test/load/bench.ts [--profile static|real] [--rounds 3] [--warmup 5] [--duration 15]
//        [--connections 50] [--quick] [--memory] [--dedup on|off|both] [--token <jwt>]
//        [--targets tollgate,tollgate-off,apollo-gateway,hive-gateway,hive-router]
//        [--queries one-subgraph,3-level,heavy]
//   node --import tsx test/load/bench.ts --planning [flags of planning.ts]: planning cost instead of load
//   node --import tsx test/load/bench.ts --subscriptions [flags of subscriptions.ts]: many subscribers
//
// The last line of stdout is always `tollgate/apollo-gateway cpu-per-request ratio (3-level query): X.XX`
// (or `n/a` when either target was not measured), after `tollgate/best-peer … (3-level query): X.XX`;
// progress goes to stderr.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Backend, startBackend } from './lib/backend.ts';
import { checkTargets } from './lib/check.ts';
import { runLoad } from './lib/load.ts';
import { badCount, measure, settle } from './lib/measure.ts';
import { type Options, parseOptions, USAGE } from './lib/options.ts';
import { pinSelf, planPinning, rssBytes, startChild, stopAllChildren } from './lib/processes.ts';
import { QUERIES, requestBody } from './lib/queries.ts';
import {
  aggregate,
  bestPeers,
  type Cell,
  formatTable,
  ratioLine,
  renderTable,
  workersLine,
} from './lib/report.ts';
import { composeBenchSupergraph } from './lib/supergraph.ts';
import {
  BENCH_NODE_OPTIONS,
  hasDedup,
  isPeer,
  prepareTarget,
  REFERENCE,
  type RunningTarget,
  TARGETS,
  type TargetId,
  urlFromReadyLine,
} from './lib/targets.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const LOAD_DIR = join(ROOT, 'test', 'load');
/** Below this many responses (all rounds) a row's figures are flagged as unstable. */
const MIN_RESPONSES = 100;

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
const stamp = () =>
  new Date()
    .toISOString()
    .replace(/:/g, '-')
    .replace(/\.\d+Z$/, 'Z');

// --- teardown: every exit path stops every process the bench started ---------------------------------

const cleanups: (() => Promise<void>)[] = [];
let shuttingDown: Promise<never> | undefined;
/** Stops every child and runs the cleanups once, whoever asks first (a signal, an error, the end). */
function shutdown(code: number): Promise<never> {
  shuttingDown ??= (async () => {
    await stopAllChildren().catch(() => undefined);
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    process.exit(code);
  })();
  return shuttingDown;
}
process.on('SIGINT', () => {
  log('interrupted: stopping everything');
  void shutdown(130);
});
process.on('SIGTERM', () => void shutdown(143));
// Under `npm run bench`, npm may die without passing a signal on: then stop as if signalled.
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid) void shutdown(143);
}, 1_000).unref();

// --- targets -----------------------------------------------------------------------------------------

async function startTargets(
  ids: readonly TargetId[],
  backend: Backend,
  options: Options,
  workDir: string,
  gatewayCpu: number | undefined,
): Promise<RunningTarget[]> {
  const supergraphFile = join(workDir, 'supergraph.graphql');
  writeFileSync(supergraphFile, composeBenchSupergraph(ROOT, backend.urls));
  const running: RunningTarget[] = [];
  const variants = (spec: (typeof TARGETS)[number]): boolean[] =>
    !hasDedup(spec) || options.dedup === 'off' ? [false] : options.dedup === 'on' ? [true] : [false, true];
  for (const [spec, dedup] of TARGETS.filter((t) => ids.includes(t.id)).flatMap((spec) =>
    variants(spec).map((d) => [spec, d] as const),
  )) {
    const prepared = await prepareTarget(
      spec,
      {
        root: ROOT,
        workDir,
        supergraphFile,
        otlpUrl: backend.otlpUrl,
        ...(options.token ? { token: options.token } : {}),
      },
      dedup,
    );
    const child = await startChild(prepared.id, {
      args: prepared.args,
      env: prepared.env,
      // a workers target spreads over every core, as it would deployed (beside the load generator here)
      cpu: spec.workers && gatewayCpu !== undefined ? `0-${availableParallelism() - 1}` : gatewayCpu,
      ready: prepared.ready,
      cwd: ROOT,
    });
    running.push({ prepared, child, url: urlFromReadyLine(prepared, child.readyLine) });
    log(`${prepared.id} ready at ${running.at(-1)!.url} (pid ${child.pid})`);
  }
  return running;
}

// --- modes -------------------------------------------------------------------------------------------

interface Machine {
  cores: number;
  cpu: string;
  node: string;
  /** 1, 5 and 15 minute load averages when the bench started, before it started anything. */
  loadAverageBefore: number[];
}

interface RunContext {
  options: Options;
  machine: Machine;
  workDir: string;
  resultsDir: string;
  meta: Record<string, unknown>;
  pinning: ReturnType<typeof planPinning>;
}

function printPreamble(ctx: RunContext, backend: Backend, targets: readonly RunningTarget[]): void {
  const o = ctx.options;
  console.log(`Tollgate bench (issues 10 and 20) — ${new Date().toISOString()}`);
  const m = ctx.machine;
  console.log(
    `machine: ${m.cores} cores (${m.cpu}), Node ${m.node}, load average before the run (uptime) ${m.loadAverageBefore.map((l) => l.toFixed(2)).join(' ')}`,
  );
  console.log(
    `pinning: ${ctx.pinning.reason}; every target's NODE_OPTIONS: ${BENCH_NODE_OPTIONS || process.env.NODE_OPTIONS || "(none: Node's defaults)"}`,
  );
  console.log(`profile: ${backend.describe}`);
  console.log(
    `load: autocannon, ${o.connections} connections, ${o.rounds} round(s) × (${o.warmupSec} s warm-up + ${o.durationSec} s measured) per target and query`,
  );
  const hive = targets.some((t) => hasDedup(t.prepared.spec));
  console.log(
    `dedup: not implemented in Tollgate (no in-flight deduplication of subgraph fetches; its figures are without it)${
      hive
        ? `; Hive Gateway's deduplicateInflightRequests ${{ off: 'off', on: 'on (rows "(dedup)")', both: 'off and on (rows "(dedup)")' }[o.dedup]}`
        : o.dedup === 'off'
          ? ''
          : `; --dedup ${o.dedup} applies to Hive targets only, none runs`
    }`,
  );
  for (const t of targets) {
    const c = t.prepared.config;
    const parts = [`${t.prepared.id}: ${t.prepared.spec.label}`];
    if (hasDedup(t.prepared.spec)) parts.push(`subgraph dedup ${t.prepared.dedup ? 'on' : 'off'}`);
    if (c) {
      parts.push(`config ${c.source}`);
      parts.push(
        c.skipped.length
          ? `skipped (gateway does not know yet): ${c.skipped.join(', ')}`
          : 'every config key applied',
      );
      if (c.token) parts.push(`bearer token: ${c.token}`);
    }
    console.log(`  ${parts.join('; ')}`);
  }
}

/** The subgraphs (or the real stack) of a run, on the load CPU, and the CPU the gateways get. */
async function startRun(ctx: RunContext): Promise<{ gatewayCpu: number | undefined; backend: Backend }> {
  const backend = await startBackend({
    root: ROOT,
    profile: ctx.options.profile,
    loadCpu: ctx.pinning.enabled ? ctx.pinning.loadCpu : undefined,
    workDir: ctx.workDir,
    log,
    onCleanup: (stop) => cleanups.push(stop),
  });
  return { gatewayCpu: ctx.pinning.enabled ? ctx.pinning.gatewayCpu : undefined, backend };
}

async function runBench(ctx: RunContext): Promise<void> {
  const { options } = ctx;
  const { gatewayCpu, backend } = await startRun(ctx);
  const targets = await startTargets(options.targets, backend, options, ctx.workDir, gatewayCpu);
  const queries = QUERIES.filter((q) => options.queries.includes(q.id));
  printPreamble(ctx, backend, targets);

  const checked = await checkTargets(targets, queries, options.profile);
  console.log(
    'responses checked before load: status 200, no errors, identical data on every target' +
      (options.profile === 'static' ? ', equal to the data computed from the fixtures' : ''),
  );
  for (const c of checked) {
    const sizes = Object.entries(c.bytes)
      .map(([t, b]) => `${t} ${b}`)
      .join(', ');
    const seen = Object.entries(c.observed)
      .map(
        ([t, o]) => `${t}: ${[...o.extensions.map((e) => `extensions.${e}`), ...o.headers].join(' ') || '-'}`,
      )
      .join('; ');
    console.log(`  ${c.query}: data ${c.data.length} bytes; response bytes ${sizes}; features seen ${seen}`);
  }

  const cells: Cell[] = [];
  const total = options.rounds * queries.length * targets.length;
  for (let round = 1; round <= options.rounds; round++) {
    // Rotate the order each round (A B C, B C A, C A B) so drift in machine load spreads over all targets.
    const order = targets.map((_, i) => targets[(i + round - 1) % targets.length]!);
    for (const q of queries) {
      const checkedQ = checked.find((c) => c.query === q.id)!;
      for (const t of order) {
        const cell = await measure(t, q, checkedQ, backend, options, round);
        cells.push(cell);
        const l = cell.load;
        log(
          `[${cells.length}/${total}] round ${round} ${q.id} ${t.prepared.id}: ${l.rps.toFixed(0)} rps, p99 ${l.latencyMs.p99} ms, ` +
            `${(cell.cpuMs / Math.max(1, l.sent)).toFixed(2)} ms CPU/req, ${((100 * cell.cpuMsWindow) / cell.wallMs).toFixed(0)}% CPU, bad ${badCount(l)}`,
        );
        if (badCount(l) && l.firstBadBody) log(`  first bad response: ${l.firstBadBody}`);
      }
    }
  }

  const rows = aggregate(cells, REFERENCE, isPeer);
  console.log('');
  console.log(
    renderTable(
      rows,
      queries.map((q) => q.id),
      targets.map((t) => t.prepared.id),
    ),
  );
  console.log('');
  console.log(
    'rps, p50, p99, CPU ms/req, gw CPU %, fetches/req: medians over rounds. CPU ms/req = gateway process user+system CPU from the start of the',
  );
  console.log(
    'window until it is idle again ÷ requests sent; gw CPU % = its CPU inside the window ÷ wall time (below ~95%: something else capped rps).',
  );
  console.log(
    'vs AG = against apollo-gateway on the same query: rps and CPU higher is better (CPU = AG CPU/req ÷ target CPU/req), p99 lower is better.',
  );
  console.log(
    "CPU vs best peer = the best peer's CPU/req ÷ the target's; best peer = the non-Tollgate target with the lowest CPU/req on the query, dedup rows excluded.",
  );
  const best = bestPeers(rows, isPeer);
  console.log(
    `best peer: ${queries.map((q) => `${q.id} ${best.get(q.id)?.target ?? 'none measured'}`).join(', ')}`,
  );
  // Other work on the machine skews every figure: say how busy it was at the end too.
  const loadAfter = loadavg();
  console.log(
    `load average after the run (uptime): ${loadAfter.map((l) => l.toFixed(2)).join(' ')} (before: ${ctx.machine.loadAverageBefore.map((l) => l.toFixed(2)).join(' ')})`,
  );
  const otlp = await backend.otlp();
  if (otlp) {
    console.log(
      otlp.requests
        ? `telemetry: the OTLP sink received ${otlp.requests} export requests (${(otlp.bytes / 1024).toFixed(0)} KB) during the run`
        : 'telemetry: the OTLP sink received nothing: no target exported traces (OTEL_* set for the production target only)',
    );
  }
  const few = rows.filter((r) => r.requests < MIN_RESPONSES);
  if (few.length) {
    console.log(
      `WARNING: fewer than ${MIN_RESPONSES} responses in all rounds for ${few.map((r) => `${r.query}/${r.target} (${r.requests})`).join(', ')}: ` +
        'too few for stable figures; use a longer --duration (or fewer --connections when responses take seconds).',
    );
  }
  const anyBad = rows.some((r) => r.bad > 0);
  if (anyBad)
    console.log(
      'WARNING: some runs had bad responses (non-2xx, socket errors, timeouts, GraphQL errors or wrong data); see "bad" and the JSON.',
    );

  // The 3-level lines close the output (the last line is the one scripts read); the others come first.
  const [last, others] = [
    QUERIES.find((q) => q.id === '3-level')!,
    QUERIES.filter((q) => q.id !== '3-level'),
  ];
  console.log('');
  for (const q of queries) {
    const line = workersLine(rows, q);
    if (line) console.log(line);
  }
  for (const q of others) {
    console.log(ratioLine(rows, q, 'tollgate', REFERENCE));
    console.log(ratioLine(rows, q, 'tollgate', 'best-peer'));
  }
  const ratioRow = rows.find((r) => r.target === 'tollgate' && r.query === '3-level');
  const ratio = ratioRow?.vsReference?.cpu;
  const file = join(ctx.resultsDir, `${stamp()}.json`);
  const targetInfo = targets.map((t) => ({
    id: t.prepared.id,
    label: t.prepared.spec.label,
    config: t.prepared.config
      ? {
          source: t.prepared.config.source,
          skipped: t.prepared.config.skipped,
          token: t.prepared.config.token ?? null,
        }
      : null,
    env: t.prepared.env,
  }));
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        ...ctx.meta,
        backend: backend.describe,
        dedup: {
          requested: options.dedup,
          implemented: false,
          note: "Tollgate has no in-flight deduplication yet; its figures are without it. Hive targets: deduplicateInflightRequests as the rows' names say",
        },
        targets: targetInfo,
        queries: queries.map((q) => {
          const c = checked.find((x) => x.query === q.id);
          return {
            ...q,
            dataBytes: c?.data.length ?? null,
            responseBytes: c?.bytes ?? null,
            featuresSeen: c?.observed ?? null,
          };
        }),
        otlp,
        rows,
        cells,
        loadAverageAfter: loadAfter,
        ratio3LevelCpu: ratio ?? null,
        bestPeer: Object.fromEntries(
          queries.map((q) => {
            const tollgate = rows.find((r) => r.target === 'tollgate' && r.query === q.id);
            return [
              q.id,
              { target: best.get(q.id)?.target ?? null, ratio: tollgate?.vsBestPeer?.cpu ?? null },
            ];
          }),
        ),
      },
      null,
      2,
    )}\n`,
  );
  console.log(`results: ${file}`);
  console.log(ratioLine(rows, last, 'tollgate', 'best-peer'));
  console.log(ratioLine(rows, last, 'tollgate', REFERENCE));
}

async function runMemory(ctx: RunContext): Promise<void> {
  const { options } = ctx;
  const { gatewayCpu, backend } = await startRun(ctx);
  const [target] = await startTargets(['tollgate'], backend, options, ctx.workDir, gatewayCpu);
  const queries = QUERIES.filter((q) => options.queries.includes(q.id));
  printPreamble(ctx, backend, [target!]);
  const checked = await checkTargets([target!], queries, options.profile);
  console.log(
    'responses checked before load: status 200, no errors' +
      (options.profile === 'static' ? ', data equal to the data computed from the fixtures' : ''),
  );

  const [first, last] = options.quick ? [1_000, 10_000] : [10_000, 100_000];
  const steps = last / first;
  console.log(
    `memory: ${target!.prepared.id}, the mix (${queries.map((q) => q.id).join(', ')}) in turn on ${options.connections} connections, RSS every ${first} requests up to ${last}`,
  );
  const mix = queries.map((q) => ({
    body: requestBody(q),
    expectedData: checked.find((c) => c.query === q.id)!.data,
  }));
  const points: { requests: number; rssBytes: number; rps: number; bad: number }[] = [];
  for (let i = 1; i <= steps; i++) {
    const load = await runLoad({
      url: target!.url,
      headers: target!.prepared.headers,
      requests: mix,
      connections: options.connections,
      amount: first,
    });
    await settle(target!.child.pid);
    const point = {
      requests: i * first,
      rssBytes: rssBytes(target!.child.pid),
      rps: load.rps,
      bad: badCount(load),
    };
    points.push(point);
    log(
      `${point.requests} requests: RSS ${(point.rssBytes / 2 ** 20).toFixed(1)} MB, ${load.rps.toFixed(0)} rps, bad ${point.bad}`,
    );
    if (point.bad && load.firstBadBody) log(`  first bad response: ${load.firstBadBody}`);
  }
  const lines = points.map((p) => [
    String(p.requests),
    (p.rssBytes / 2 ** 20).toFixed(1),
    p.rps.toFixed(0),
    String(p.bad),
  ]);
  console.log('');
  console.log(formatTable(['requests', 'RSS MB', 'rps', 'bad'], lines, [0, 1, 2, 3]));
  const ratio = points.at(-1)!.rssBytes / points[0]!.rssBytes;
  const label = (n: number) => `${n / 1000}k`;
  console.log('');
  console.log(
    `issue 10 asks for RSS after ${label(last)} within 20% of RSS after ${label(first)} (ratio ≤ 1.20)`,
  );
  const file = join(ctx.resultsDir, `${stamp()}-memory.json`);
  writeFileSync(
    file,
    `${JSON.stringify({ ...ctx.meta, backend: backend.describe, target: target!.prepared.id, points, ratio }, null, 2)}\n`,
  );
  console.log(`results: ${file}`);
  console.log(
    `tollgate memory (production config): RSS after ${label(last)} / after ${label(first)} requests: ${ratio.toFixed(2)}`,
  );
}

async function main(): Promise<void> {
  // Planning cost is measured without gateways or load: planning.ts has its own flags and children.
  const argv = process.argv.slice(2);
  if (argv.includes('--subscriptions')) {
    try {
      const { runSubscriptions } = await import('./subscriptions.ts');
      await runSubscriptions(argv.filter((a) => a !== '--subscriptions'));
    } catch (error) {
      if (!shuttingDown) console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
      await shutdown(1);
    }
    await shutdown(0);
  }
  if (argv.includes('--planning')) {
    try {
      const { runPlanning } = await import('./planning.ts');
      await runPlanning(argv.filter((a) => a !== '--planning'));
    } catch (error) {
      if (!shuttingDown) console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
      await shutdown(1);
    }
    await shutdown(0);
  }
  let options: Options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    console.error(`bench: ${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  // Before pinning: once pinned, this process sees one core.
  const machine: Machine = {
    cores: availableParallelism(),
    cpu: cpus()[0]?.model.trim() ?? 'unknown CPU',
    node: process.version,
    loadAverageBefore: loadavg(),
  };
  const pinning = planPinning();
  // Autocannon runs in this process: keep it (and everything started from here) on the load CPU.
  if (pinning.enabled) pinSelf(pinning.loadCpu);
  const workDir = mkdtempSync(join(tmpdir(), 'tollgate-bench-'));
  cleanups.push(async () => rmSync(workDir, { recursive: true, force: true }));
  const resultsDir = join(LOAD_DIR, 'results');
  mkdirSync(resultsDir, { recursive: true });
  const meta = {
    startedAt: new Date().toISOString(),
    machine,
    pinning,
    nodeOptions: BENCH_NODE_OPTIONS,
    options: { ...options, token: options.token ? options.token.source : null },
  };
  const ctx: RunContext = { options, machine, workDir, resultsDir, meta, pinning };
  try {
    await (options.memory ? runMemory(ctx) : runBench(ctx));
  } catch (error) {
    // After Ctrl-C, whatever was starting fails because its process was stopped: not worth a message.
    if (!shuttingDown) console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
    await shutdown(1);
  }
  await shutdown(0);
}

await main();
