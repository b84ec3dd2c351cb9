// Aggregation over rounds (medians), ratios against the reference and the best peer, and the printed
// table and ratio lines. Pure: no processes, no I/O.
import type { LoadResult } from './load.ts';
import type { BenchQuery } from './queries.ts';
import type { VariantId } from './targets.ts';

/** One measured window: one target, one query, one round. */
export interface Cell {
  target: VariantId;
  query: BenchQuery['id'];
  round: number;
  load: LoadResult;
  /**
   * Gateway process CPU (user + system) from the start of the window until the gateway is idle again,
   * i.e. all the work of the `load.sent` requests, including those still in flight when load stopped.
   */
  cpuMs: number;
  /** Gateway process CPU inside the window only (for CPU %). */
  cpuMsWindow: number;
  wallMs: number;
  /** Gateway RSS at the end of the window. */
  rssBytes: number;
  /** Requests the subgraphs served for the `load.sent` requests, null when unknown. */
  subgraphRequests: number | null;
}

export interface Row {
  target: VariantId;
  query: BenchQuery['id'];
  rps: number;
  rpsRounds: number[];
  p50Ms: number;
  p99Ms: number;
  cpuMsPerRequest: number;
  /** Gateway CPU time ÷ wall time: near 100% means the gateway was the bottleneck. */
  cpuPercent: number;
  rssMb: number;
  subgraphFetchesPerRequest: number | null;
  requests: number;
  /** non-2xx + socket errors + timeouts + bodies with `errors` + sampled bodies whose data differed. */
  bad: number;
  /** Against the reference target on the same query; null for the reference itself or when absent. */
  vsReference: { rps: number; cpu: number; p99: number } | null;
  /**
   * Against the best peer on the same query (the peer row with the lowest CPU ms/req): its CPU/req ÷
   * this row's, higher is better; null when the query has no measured peer.
   */
  vsBestPeer: { target: VariantId; cpu: number } | null;
}

export function median(values: readonly number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return Number.NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

const badOf = (l: LoadResult) => l.non2xx + l.socketErrors + l.timeouts + l.errorBodies + l.sampleMismatches;

/**
 * `reference`: the target of the `vs AG` columns. `isPeer`: which rows may be a query's best peer
 * (the bench passes every target but Tollgate's, dedup rows excluded).
 */
export function aggregate(
  cells: readonly Cell[],
  reference: VariantId,
  isPeer: (target: VariantId) => boolean = () => false,
): Row[] {
  const groups = new Map<string, Cell[]>();
  for (const c of cells) {
    const key = `${c.query}\u0000${c.target}`;
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  const rows: Row[] = [];
  for (const group of groups.values()) {
    const first = group[0]!;
    const sorted = [...group].sort((a, b) => a.round - b.round);
    // A window in which nothing completed says nothing about latency or cost per request.
    const valid = sorted.filter((c) => c.load.completed > 0);
    const fetches = valid.map((c) =>
      c.subgraphRequests === null ? Number.NaN : c.subgraphRequests / Math.max(1, c.load.sent),
    );
    rows.push({
      target: first.target,
      query: first.query,
      rps: median(sorted.map((c) => c.load.rps)),
      rpsRounds: sorted.map((c) => c.load.rps),
      p50Ms: median(valid.map((c) => c.load.latencyMs.p50)),
      p99Ms: median(valid.map((c) => c.load.latencyMs.p99)),
      cpuMsPerRequest: median(valid.map((c) => c.cpuMs / Math.max(1, c.load.sent))),
      cpuPercent: median(sorted.map((c) => (100 * c.cpuMsWindow) / c.wallMs)),
      rssMb: Math.max(...sorted.map((c) => c.rssBytes)) / 2 ** 20,
      subgraphFetchesPerRequest: valid.some((c) => c.subgraphRequests === null) ? null : median(fetches),
      requests: sorted.reduce((n, c) => n + c.load.completed, 0),
      bad: sorted.reduce((n, c) => n + badOf(c.load), 0),
      vsReference: null,
      vsBestPeer: null,
    });
  }
  for (const row of rows) {
    const ref = rows.find((r) => r.query === row.query && r.target === reference);
    if (!ref || ref === row) continue;
    row.vsReference = {
      rps: ref.rps > 0 ? row.rps / ref.rps : Number.NaN,
      cpu: ref.cpuMsPerRequest / row.cpuMsPerRequest,
      p99: row.p99Ms / ref.p99Ms,
    };
  }
  const best = bestPeers(rows, isPeer);
  for (const row of rows) {
    const peer = best.get(row.query);
    if (peer) row.vsBestPeer = { target: peer.target, cpu: peer.cpuMsPerRequest / row.cpuMsPerRequest };
  }
  return rows;
}

/** Per query, the peer row with the lowest CPU ms/req (rows without a finite figure never win). */
export function bestPeers(
  rows: readonly Row[],
  isPeer: (target: VariantId) => boolean,
): Map<BenchQuery['id'], Row> {
  const best = new Map<BenchQuery['id'], Row>();
  for (const row of rows) {
    if (!isPeer(row.target) || !Number.isFinite(row.cpuMsPerRequest) || row.cpuMsPerRequest <= 0) continue;
    const current = best.get(row.query);
    if (!current || row.cpuMsPerRequest < current.cpuMsPerRequest) best.set(row.query, row);
  }
  return best;
}

/**
 * `<subject>/<against> cpu-per-request ratio (<title>): X.XX`: the other side's CPU/req ÷ the subject's
 * (higher is better for the subject); `n/a` when either row is missing. `against` is a target id, or
 * `best-peer` for the query's best peer.
 */
export function ratioLine(
  rows: readonly Row[],
  query: Pick<BenchQuery, 'id' | 'title'>,
  subject: VariantId,
  against: VariantId | 'best-peer',
): string {
  const row = rows.find((r) => r.query === query.id && r.target === subject);
  const value =
    against === 'best-peer'
      ? row?.vsBestPeer?.cpu
      : (() => {
          const other = rows.find((r) => r.query === query.id && r.target === against);
          return row && other ? other.cpuMsPerRequest / row.cpuMsPerRequest : undefined;
        })();
  const shown = value !== undefined && Number.isFinite(value) ? value.toFixed(2) : 'n/a';
  return `${subject}/${against} cpu-per-request ratio (${query.title}): ${shown}`;
}

/**
 * What `server.workers: 2` costs and gives on a query: its CPU per request ÷ one worker's (issue 20
 * wants ≤ 1.10) and its requests/s ÷ one worker's; undefined unless both rows were measured.
 */
export function workersLine(
  rows: readonly Row[],
  query: Pick<BenchQuery, 'id' | 'title'>,
): string | undefined {
  const one = rows.find((r) => r.query === query.id && r.target === 'tollgate');
  const two = rows.find((r) => r.query === query.id && r.target === 'tollgate-2w');
  if (!one || !two) return undefined;
  return `tollgate-2w/tollgate (${query.title}): cpu-per-request ${(two.cpuMsPerRequest / one.cpuMsPerRequest).toFixed(2)}x, requests/s ${(two.rps / one.rps).toFixed(2)}x (${Math.round(two.rps)} against ${Math.round(one.rps)})`;
}

const fixed = (n: number, digits: number) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const ratio = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '—' : `${n.toFixed(2)}x`);

export function renderTable(
  rows: readonly Row[],
  queryOrder: readonly string[],
  targetOrder: readonly string[],
): string {
  const header = [
    'query',
    'target',
    'rps (median) [rounds]',
    'p50 ms',
    'p99 ms',
    'CPU ms/req',
    'gw CPU %',
    'RSS MB',
    'fetches/req',
    'bad',
    'rps vs AG',
    'CPU vs AG',
    'p99 vs AG',
    'CPU vs best peer',
  ];
  const sorted = [...rows].sort(
    (a, b) =>
      queryOrder.indexOf(a.query) - queryOrder.indexOf(b.query) ||
      targetOrder.indexOf(a.target) - targetOrder.indexOf(b.target),
  );
  const lines = sorted.map((r) => [
    r.query,
    r.target,
    r.rpsRounds.length > 1
      ? `${fixed(r.rps, 0)} [${r.rpsRounds.map((x) => fixed(x, 0)).join(' ')}]`
      : fixed(r.rps, 0),
    fixed(r.p50Ms, 0),
    fixed(r.p99Ms, 0),
    fixed(r.cpuMsPerRequest, 2),
    fixed(r.cpuPercent, 0),
    fixed(r.rssMb, 0),
    r.subgraphFetchesPerRequest === null ? 'n/a' : fixed(r.subgraphFetchesPerRequest, 2),
    String(r.bad),
    ratio(r.vsReference?.rps),
    ratio(r.vsReference?.cpu),
    ratio(r.vsReference?.p99),
    ratio(r.vsBestPeer?.cpu),
  ]);
  return formatTable(header, lines, [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
}

/** A plain-text table; `right` lists the columns aligned right (numbers). */
export function formatTable(
  header: readonly string[],
  lines: readonly (readonly string[])[],
  right: readonly number[] = [],
): string {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const fmt = (cells: readonly string[]) =>
    cells
      .map((c, i) => (right.includes(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(fmt)].join('\n');
}
