import pg from 'pg';
import type { Sample } from './load.ts';
import { bodyPrefix } from './workload.ts';

/** The writes a scenario's clients were told about, against the rows the database holds. */
export interface WriteCheck {
  /** Mutations that reported success. */
  succeeded: number;
  /** Mutations that reported an error. */
  failed: number;
  /** Rows in reviews.reviews carrying this scenario's tag. */
  rows: number;
  /** Reported success, no row. */
  lost: string[];
  /** More than one row for one mutation. */
  duplicated: string[];
  /** Reported an error, yet the row is there (the outcome of a write cut mid-flight is unknown to its client). */
  failedButWritten: string[];
  /** Rows no sent mutation accounts for. */
  unexplained: string[];
}

/** Counts the rows of `tag`'s writes in SQL and matches them with what each mutation reported. */
export async function checkWrites(
  databaseUrl: string,
  tag: string,
  samples: readonly Sample[],
): Promise<WriteCheck> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  let rows: Map<string, number>;
  try {
    const result = await client.query<{ body: string; n: number }>(
      'SELECT body, count(*)::int AS n FROM reviews.reviews WHERE starts_with(body, $1) GROUP BY body',
      [bodyPrefix(tag)],
    );
    rows = new Map(result.rows.map((r) => [r.body, r.n]));
  } finally {
    await client.end();
  }
  const mutations = samples.filter((s) => s.id !== undefined);
  const sent = new Set(mutations.map((s) => s.id!));
  return {
    succeeded: mutations.filter((s) => s.ok).length,
    failed: mutations.filter((s) => !s.ok).length,
    rows: [...rows.values()].reduce((a, b) => a + b, 0),
    lost: mutations.filter((s) => s.ok && rows.get(s.id!) !== 1).map((s) => s.id!),
    duplicated: [...rows].filter(([, n]) => n > 1).map(([body]) => body),
    failedButWritten: mutations.filter((s) => !s.ok && rows.has(s.id!)).map((s) => `${s.id} (${s.code})`),
    unexplained: [...rows.keys()].filter((body) => !sent.has(body)),
  };
}
