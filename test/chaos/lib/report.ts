import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Sample } from './load.ts';

const RESULTS_DIR = fileURLToPath(new URL('../../../.tollgate/chaos', import.meta.url));

export interface Summary {
  requests: number;
  ok: number;
  /** Failed operations by code (`extensions.code`, or the transport error's code). */
  errors: Record<string, number>;
  /** Failed operations that still carried some data. */
  partial: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export function summarize(samples: readonly Sample[]): Summary {
  const errors: Record<string, number> = {};
  for (const s of samples) if (!s.ok) errors[s.code] = (errors[s.code] ?? 0) + 1;
  const latencies = samples.map((s) => s.latencyMs).sort((a, b) => a - b);
  return {
    requests: samples.length,
    ok: samples.filter((s) => s.ok).length,
    errors,
    partial: samples.filter((s) => s.partial).length,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies.at(-1) ?? 0,
  };
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export interface Report {
  scenario: string;
  /** What happened when, in ms since the load started. */
  events: Record<string, number>;
  total: Summary;
  byKind: Record<string, Summary>;
  /** Anything else the scenario measured (rows, exit codes…). */
  facts: Record<string, unknown>;
}

/** Prints what the clients saw, per operation kind, and keeps it as JSON under .tollgate/chaos/. */
export function report(
  scenario: string,
  samples: readonly Sample[],
  events: Record<string, number>,
  facts: Record<string, unknown> = {},
): Report {
  const kinds = [...new Set(samples.map((s) => s.kind))].sort();
  const result: Report = {
    scenario,
    events,
    total: summarize(samples),
    byKind: Object.fromEntries(kinds.map((k) => [k, summarize(samples.filter((s) => s.kind === k))])),
    facts,
  };
  const line = (name: string, s: Summary) =>
    `  ${name.padEnd(20)} ${String(s.requests).padStart(5)} sent ${String(s.ok).padStart(5)} ok  p50 ${String(s.p50Ms).padStart(5)} ms  p99 ${String(s.p99Ms).padStart(5)} ms  max ${String(s.maxMs).padStart(5)} ms  errors ${JSON.stringify(s.errors)}${s.partial ? ` (${s.partial} with partial data)` : ''}`;
  console.log(
    [
      `chaos: ${scenario}`,
      `  events (ms since start): ${JSON.stringify(events)}`,
      ...kinds.map((k) => line(k, result.byKind[k]!)),
      line('all', result.total),
      `  ${JSON.stringify(facts)}`,
    ].join('\n'),
  );
  mkdirSync(RESULTS_DIR, { recursive: true });
  // every sample too, one per line, to look into a run afterwards
  writeFileSync(
    join(RESULTS_DIR, `${slug(scenario)}.json`),
    `${JSON.stringify({ ...result, samples: '@samples' }, null, 2).replace('"@samples"', `[\n${samples.map((x) => JSON.stringify(x)).join(',\n')}\n]`)}\n`,
  );
  return result;
}

const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
