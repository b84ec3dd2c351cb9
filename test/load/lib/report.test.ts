import { describe, expect, it } from 'vitest';
import type { LoadResult } from './load.ts';
import { QUERIES } from './queries.ts';
import { aggregate, bestPeers, type Cell, ratioLine, renderTable, workersLine } from './report.ts';
import { isPeer, type VariantId } from './targets.ts';

const load = (sent: number): LoadResult => ({
  completed: sent,
  sent,
  durationSec: 10,
  rps: sent / 10,
  latencyMs: { mean: 10, p50: 10, p90: 20, p99: 30, max: 40 },
  non2xx: 0,
  statusCodes: { '200': sent },
  socketErrors: 0,
  timeouts: 0,
  errorBodies: 0,
  sampled: 0,
  sampleMismatches: 0,
});

/** One round of `target` on `query` that cost `msPerRequest` CPU for each of 1,000 requests. */
const cell = (target: VariantId, query: Cell['query'], msPerRequest: number, round = 1): Cell => ({
  target,
  query,
  round,
  load: load(1_000),
  cpuMs: msPerRequest * 1_000,
  cpuMsWindow: msPerRequest * 900,
  wallMs: 10_000,
  rssBytes: 100 * 2 ** 20,
  subgraphRequests: 5_000,
});

const query = (id: Cell['query']) => QUERIES.find((q) => q.id === id)!;

// CPU ms/request per target and query; the peer with the lowest figure differs per query.
const CPU: Record<Cell['query'], Partial<Record<VariantId, number>>> = {
  'one-subgraph': { tollgate: 0.2, 'tollgate-off': 0.1, 'apollo-gateway': 0.5, 'hive-router': 0.6 },
  '3-level': {
    tollgate: 0.6,
    'tollgate-off': 0.5,
    'apollo-gateway': 2.4,
    'hive-gateway': 4.0,
    'hive-router': 1.5,
    // Flattered by identical-query load: shown, never the best peer.
    'hive-router (dedup)': 0.3,
  },
  heavy: { tollgate: 2.0, 'apollo-gateway': 8.0, 'hive-gateway (dedup)': 1.0 },
};
const cells = Object.entries(CPU).flatMap(([q, targets]) =>
  Object.entries(targets).map(([t, ms]) => cell(t as VariantId, q as Cell['query'], ms)),
);

describe('best peer', () => {
  it('is the non-Tollgate target with the lowest CPU per request on each query, dedup rows excluded', () => {
    const rows = aggregate(cells, 'apollo-gateway', isPeer);
    const best = bestPeers(rows, isPeer);
    expect(Object.fromEntries([...best].map(([q, r]) => [q, r.target]))).toEqual({
      'one-subgraph': 'apollo-gateway',
      '3-level': 'hive-router',
      heavy: 'apollo-gateway',
    });
  });

  it('gives every row of a query its CPU ratio against that peer (peer CPU/req ÷ row CPU/req)', () => {
    const rows = aggregate(cells, 'apollo-gateway', isPeer);
    const of = (t: VariantId, q: Cell['query']) => rows.find((r) => r.target === t && r.query === q);
    expect(of('tollgate', '3-level')?.vsBestPeer).toEqual({ target: 'hive-router', cpu: 2.5 });
    expect(of('hive-router', '3-level')?.vsBestPeer?.cpu).toBe(1);
    expect(of('hive-gateway', '3-level')?.vsBestPeer?.cpu).toBeCloseTo(0.375);
    expect(of('hive-router (dedup)', '3-level')?.vsBestPeer?.cpu).toBe(5);
    expect(of('tollgate', 'heavy')?.vsBestPeer).toEqual({ target: 'apollo-gateway', cpu: 4 });
    // The apollo-gateway ratio is unchanged by peers.
    expect(of('tollgate', '3-level')?.vsReference?.cpu).toBe(4);
  });

  it('uses the median of the rounds', () => {
    const rounds = [
      cell('tollgate', '3-level', 1),
      cell('hive-gateway', '3-level', 3, 1),
      cell('hive-gateway', '3-level', 9, 2),
      cell('hive-gateway', '3-level', 4, 3),
      cell('hive-router', '3-level', 5, 1),
      cell('hive-router', '3-level', 2, 2),
      cell('hive-router', '3-level', 6, 3),
    ];
    const rows = aggregate(rounds, 'apollo-gateway', isPeer);
    // hive-gateway's median is 4, hive-router's 5: the router's one fast round does not make it best.
    expect(bestPeers(rows, isPeer).get('3-level')?.target).toBe('hive-gateway');
    expect(ratioLine(rows, query('3-level'), 'tollgate', 'best-peer')).toBe(
      'tollgate/best-peer cpu-per-request ratio (3-level query): 4.00',
    );
  });

  it('skips peers without a finite figure (no request completed)', () => {
    const empty = { ...cell('hive-router', '3-level', 0.1), load: { ...load(0), completed: 0 } };
    const rows = aggregate(
      [cell('tollgate', '3-level', 1), cell('hive-gateway', '3-level', 3), empty],
      'x' as VariantId,
      isPeer,
    );
    expect(bestPeers(rows, isPeer).get('3-level')?.target).toBe('hive-gateway');
  });

  it('treats every target but Tollgate as a peer, except dedup rows', () => {
    expect(
      (
        [
          'tollgate',
          'tollgate-off',
          'apollo-gateway',
          'hive-gateway',
          'hive-router',
          'hive-router (dedup)',
        ] as const
      ).filter(isPeer),
    ).toEqual(['apollo-gateway', 'hive-gateway', 'hive-router']);
  });
});

describe('ratio lines', () => {
  const rows = aggregate(cells, 'apollo-gateway', isPeer);

  it('prints the best-peer and apollo-gateway lines in the fixed format, two decimals', () => {
    expect(ratioLine(rows, query('3-level'), 'tollgate', 'best-peer')).toBe(
      'tollgate/best-peer cpu-per-request ratio (3-level query): 2.50',
    );
    expect(ratioLine(rows, query('3-level'), 'tollgate', 'apollo-gateway')).toBe(
      'tollgate/apollo-gateway cpu-per-request ratio (3-level query): 4.00',
    );
    expect(ratioLine(rows, query('one-subgraph'), 'tollgate', 'best-peer')).toBe(
      'tollgate/best-peer cpu-per-request ratio (one-subgraph query): 2.50',
    );
    expect(ratioLine(rows, query('heavy'), 'tollgate', 'best-peer')).toBe(
      'tollgate/best-peer cpu-per-request ratio (heavy query): 4.00',
    );
  });

  it('says n/a when Tollgate or every peer was not run', () => {
    const onlyTollgate = aggregate([cell('tollgate', '3-level', 1)], 'apollo-gateway', isPeer);
    expect(ratioLine(onlyTollgate, query('3-level'), 'tollgate', 'best-peer')).toBe(
      'tollgate/best-peer cpu-per-request ratio (3-level query): n/a',
    );
    expect(ratioLine(onlyTollgate, query('3-level'), 'tollgate', 'apollo-gateway')).toBe(
      'tollgate/apollo-gateway cpu-per-request ratio (3-level query): n/a',
    );
    const noTollgate = aggregate([cell('hive-router', '3-level', 1)], 'apollo-gateway', isPeer);
    expect(ratioLine(noTollgate, query('3-level'), 'tollgate', 'best-peer')).toBe(
      'tollgate/best-peer cpu-per-request ratio (3-level query): n/a',
    );
  });

  it('adds a `CPU vs best peer` column to the table', () => {
    const table = renderTable(
      rows.filter((r) => r.query === '3-level'),
      ['3-level'],
      ['tollgate', 'hive-router'],
    ).split('\n');
    expect(table[0]).toMatch(/CPU vs best peer$/);
    const tollgate = table.find((l) => /^3-level\s+tollgate\s/.test(l));
    expect(tollgate).toMatch(/2\.50x$/);
  });
});

describe('the workers line', () => {
  it('gives two workers’ CPU per request and requests/s against one worker’s; never a best peer', () => {
    const rows = aggregate(
      [
        cell('tollgate', '3-level', 0.6),
        cell('tollgate-2w', '3-level', 0.66),
        cell('hive-router', '3-level', 1.5),
      ],
      'apollo-gateway',
      isPeer,
    );
    expect(workersLine(rows, query('3-level'))).toBe(
      'tollgate-2w/tollgate (3-level query): cpu-per-request 1.10x, requests/s 1.00x (100 against 100)',
    );
    expect(bestPeers(rows, isPeer).get('3-level')?.target).toBe('hive-router');
    expect(workersLine(rows, query('heavy'))).toBeUndefined();
  });
});
