import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type Gateway, loadConfig } from '../src/index.ts';
import { killAllReplicas, ReplicaProcess, scratchDir, sdlFiles } from './fixtures/replica-process.ts';

// A replica frozen with SIGSTOP (the kernel still accepts its connections, nothing answers) under steady
// load, hedging on: hedged attempts and the adaptive attempt timeout leave it behind,
// so queries see no error; mutations are never hedged or cut, so each is executed exactly once.
// Figures are printed with a [hedging] prefix (the machine is shared: say its load with them).

const FULL = '{ topProducts(first: 2) { upc name reviews { body } } }';
const ADD_REVIEW = 'mutation Add($id: ID!) { addReview(id: $id, upc: "1", body: "great") { id } }';
const rowsFile = join(scratchDir, 'hedging-rows.txt');
const FREEZE_MS = 3_000;

interface Sample {
  at: number;
  ms: number;
  ok: boolean;
  detail?: string;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
}

describe('a frozen replica under load, with hedging and the adaptive attempt timeout', () => {
  let products: ReplicaProcess;
  let reviews: ReplicaProcess[] = [];
  let gateway: Gateway | undefined;

  beforeAll(async () => {
    writeFileSync(rowsFile, '');
    [products, ...reviews] = await Promise.all([
      ReplicaProcess.start('products'),
      ReplicaProcess.start('reviews', { ROWS_FILE: rowsFile, MUTATION_DELAY_MS: '5' }),
      ReplicaProcess.start('reviews', { ROWS_FILE: rowsFile, MUTATION_DELAY_MS: '5' }),
    ]);
  });
  afterAll(async () => {
    for (const r of reviews) r.signal('SIGCONT');
    await gateway?.close(100);
    await killAllReplicas();
  });

  it('SIGSTOP one of two replicas for 3 s: 0 query errors, every mutation executed once', async () => {
    const config = loadConfig({
      base: {
        server: { port: 0, host: '127.0.0.1' },
        subgraphs: [
          { name: 'products', replicas: [products.url], schemaFile: sdlFiles.products },
          { name: 'reviews', replicas: reviews.map((r) => r.url), schemaFile: sdlFiles.reviews },
        ],
        // hedging on (it is off by default); the adaptive attempt timeout at its defaults
        pool: { hedging: { enabled: true } },
        ratelimit: { enabled: false },
      },
    });
    gateway = await createGateway({ config });
    const url = new URL(await gateway.listen());
    const client = new Pool(url.origin, { connections: 8 });
    const post = async (body: unknown): Promise<{ ok: boolean; detail: string }> => {
      try {
        const res = await client.request({
          path: url.pathname,
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
          headersTimeout: 60_000,
        });
        const json = (await res.body.json()) as { errors?: { message: string }[]; data?: unknown };
        const ok = res.statusCode === 200 && !json.errors && json.data != null;
        return { ok, detail: ok ? '' : `${res.statusCode} ${JSON.stringify(json.errors ?? json)}` };
      } catch (error) {
        return { ok: false, detail: String(error) };
      }
    };
    const t0 = performance.now();
    const now = () => performance.now() - t0;
    let running = true;
    const queries: Sample[] = [];
    const mutations: { id: string; ok: boolean; ms: number }[] = [];
    const queryLoop = async () => {
      while (running) {
        const at = now();
        const r = await post({ query: FULL });
        queries.push({ at, ms: now() - at, ok: r.ok, detail: r.detail });
      }
    };
    let seq = 0;
    const mutationLoop = async () => {
      while (running) {
        const id = `m${seq++}`;
        const at = now();
        const r = await post({ query: ADD_REVIEW, variables: { id } });
        mutations.push({ id, ok: r.ok, ms: now() - at });
        await sleep(20);
      }
    };
    const loops = [...Array.from({ length: 4 }, queryLoop), mutationLoop(), mutationLoop()];
    await sleep(2_000);
    const frozenAt = now();
    reviews[0]!.signal('SIGSTOP');
    await sleep(FREEZE_MS);
    reviews[0]!.signal('SIGCONT');
    const thawedAt = now();
    await sleep(1_000);
    running = false;
    await Promise.all(loops);
    await client.close();

    const before = queries.filter((s) => s.at < frozenAt).map((s) => s.ms);
    const during = queries.filter((s) => s.at >= frozenAt && s.at < thawedAt).map((s) => s.ms);
    const snap = gateway.pools.get('reviews')!.snapshot();
    const failed = queries.filter((s) => !s.ok);
    console.info(
      `[hedging] queries ${queries.length} (${failed.length} failed); before the freeze p99 ${percentile(before, 99).toFixed(0)} ms; during it p99 ${percentile(during, 99).toFixed(0)} ms, max ${Math.max(...during).toFixed(0)} ms; mutations ${mutations.length}; reviews pool: hedges ${snap.hedges}, won ${snap.hedgesWon}, cut ${snap.attemptTimeouts}, retries ${snap.retries}, ejections ${snap.ejections}; adaptive ${JSON.stringify(snap.adaptive)}`,
    );

    expect(failed.slice(0, 3)).toEqual([]);
    expect(during.length).toBeGreaterThanOrEqual(10);
    // the frozen replica was left behind: by hedges, cut attempts, or its ejection
    expect(snap.hedgesWon + snap.attemptTimeouts + snap.ejections).toBeGreaterThan(0);
    // mutations: sent once each, never hedged or retried; the one (if any) on the frozen replica waited
    // for it and completed after SIGCONT
    const rows = readFileSync(rowsFile, 'utf8').split('\n').filter(Boolean);
    const counts = new Map<string, number>();
    for (const id of rows) counts.set(id, (counts.get(id) ?? 0) + 1);
    expect([...counts.values()].filter((n) => n > 1)).toEqual([]);
    for (const m of mutations) if (m.ok) expect(counts.get(m.id), m.id).toBe(1);
    expect(mutations.filter((m) => !m.ok)).toEqual([]);
  });
});
