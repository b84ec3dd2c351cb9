import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type EmbeddedPostgres, startEmbeddedPostgres } from '../src/index.ts';

// Always embedded, whatever DATABASE_URL says: this checks that `pg` works through pglite-socket,
// which funnels every connection into one PGlite session.
describe('startEmbeddedPostgres', () => {
  let server: EmbeddedPostgres;

  beforeAll(async () => {
    server = await startEmbeddedPostgres();
    const db = createDb(server.url, { max: 1 });
    await db.query(`CREATE SCHEMA s;
      CREATE TABLE s.items (id text PRIMARY KEY, n int NOT NULL);
      INSERT INTO s.items SELECT i::text, i * 10 FROM generate_series(1, 500) AS i;`);
    await db.close();
  });
  afterAll(() => server.close());

  it('serves a pg URL on a port the OS picked', () => {
    expect(server.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres\?sslmode=disable$/);
    expect(server.url).not.toContain(':0/');
  });

  it('keeps concurrent parameterised queries from many connections apart', async () => {
    // Three pools as three replicas would hold them; statements of different shapes run at once so
    // a Parse from one connection bound by another would show up as a wrong or failed result.
    const pools = [
      createDb(server.url, { max: 8 }),
      createDb(server.url, { max: 8 }),
      createDb(server.url, { max: 8 }),
    ];
    try {
      const checks = Array.from({ length: 600 }, async (_, i) => {
        const db = pools[i % pools.length]!;
        if (i % 3 === 0) {
          const [row] = await db.query<{ a: number; b: string }>('SELECT $1::int + 1 AS a, $2::text AS b', [
            i,
            `s${i}`,
          ]);
          return row?.a === i + 1 && row.b === `s${i}`;
        }
        // Large arrays too, so a message spans several TCP chunks.
        const ids = Array.from({ length: i % 2 ? 2000 : 3 }, (_, k) => String(((i + k * 7) % 500) + 1));
        const rows = await db.query<{ id: string; n: number }>(
          'SELECT id, n FROM s.items WHERE id = ANY($1) ORDER BY id',
          [ids],
        );
        const expected = [...new Set(ids)].sort();
        return (
          rows.map((r) => r.id).join() === expected.join() && rows.every((r) => r.n === Number(r.id) * 10)
        );
      });
      const results = await Promise.all(checks);
      expect(results.filter((ok) => !ok)).toHaveLength(0);
      expect(pools.reduce((sum, p) => sum + p.statements, 0)).toBe(600);
    } finally {
      await Promise.all(pools.map((p) => p.close()));
    }
  });

  it('accepts at least 32 connections at once', async () => {
    const clients = Array.from({ length: 40 }, () => new pg.Client({ connectionString: server.url }));
    try {
      await Promise.all(clients.map((c) => c.connect()));
      const answers = await Promise.all(clients.map((c, i) => c.query('SELECT $1::int AS i', [i])));
      expect(answers.map((a) => a.rows[0].i)).toEqual(clients.map((_, i) => i));
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  });
});
