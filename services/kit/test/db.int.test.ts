import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db, migrate, seed } from '../src/index.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing.ts';

// Runs on the embedded server, or on real PostgreSQL when DATABASE_URL is set.
describe('db', () => {
  let database: TestDatabase;
  let db: Db;
  const root = mkdtempSync(join(tmpdir(), 'tollgate-kit-db-'));

  /** A throwaway service folder with the given migrations and seed. */
  function service(name: string, migrations: Record<string, string>, seedSql?: string) {
    const dir = join(root, name);
    mkdirSync(join(dir, 'migrations'), { recursive: true });
    for (const [file, sql] of Object.entries(migrations)) writeFileSync(join(dir, 'migrations', file), sql);
    if (seedSql !== undefined) writeFileSync(join(dir, 'seed.sql'), seedSql);
    return { name, dir };
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    db = createDb(database.url);
  });
  afterAll(async () => {
    await db?.close();
    await database?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('counts every statement it sends', async () => {
    const before = db.statements;
    const rows = await db.query<{ n: number }>('SELECT $1::int AS n', [41]);
    await db.query('SELECT 1');
    expect(rows).toEqual([{ n: 41 }]);
    expect(db.statements - before).toBe(2);
  });

  it('applies migrations in filename order, each once', async () => {
    const svc = service('alpha', {
      '002_add.sql': 'ALTER TABLE alpha.t ADD COLUMN b int NOT NULL DEFAULT 2;',
      '001_init.sql': 'CREATE SCHEMA alpha; CREATE TABLE alpha.t (a int);',
      'notes.txt': 'not sql',
    });
    expect(await migrate(db, svc)).toEqual(['001_init.sql', '002_add.sql']);
    // A second run is a no-op: without tracking, CREATE SCHEMA alpha would fail here.
    expect(await migrate(db, svc)).toEqual([]);
    writeFileSync(join(svc.dir, 'migrations', '003_more.sql'), 'INSERT INTO alpha.t (a) VALUES (1);');
    expect(await migrate(db, svc)).toEqual(['003_more.sql']);
    expect(await db.query('SELECT a, b FROM alpha.t')).toEqual([{ a: 1, b: 2 }]);
    const tracked = await db.query<{ name: string }>(
      "SELECT name FROM public.tollgate_migrations WHERE service = 'alpha' ORDER BY name",
    );
    expect(tracked.map((r) => r.name)).toEqual(['001_init.sql', '002_add.sql', '003_more.sql']);
  });

  it('tracks migrations per service', async () => {
    const svc = service('beta', { '001_init.sql': 'CREATE SCHEMA beta;' });
    expect(await migrate(db, svc)).toEqual(['001_init.sql']);
  });

  it('leaves nothing behind when a migration fails', async () => {
    const svc = service('gamma', {
      '001_init.sql': 'CREATE SCHEMA gamma; CREATE TABLE gamma.t (a int); SELECT 1 / 0;',
    });
    await expect(migrate(db, svc)).rejects.toThrow(/gamma\/001_init\.sql.*division by zero/);
    expect(await db.query("SELECT 1 FROM information_schema.schemata WHERE schema_name = 'gamma'")).toEqual(
      [],
    );
    expect(await db.query("SELECT 1 FROM public.tollgate_migrations WHERE service = 'gamma'")).toEqual([]);
  });

  it('seeds with the counts substituted and does not duplicate on a second run', async () => {
    const svc = service(
      'delta',
      { '001_init.sql': 'CREATE SCHEMA delta; CREATE TABLE delta.t (id int PRIMARY KEY, kind text);' },
      `INSERT INTO delta.t SELECT i, 'p' FROM generate_series(1, {{products}}) i ON CONFLICT DO NOTHING;
       INSERT INTO delta.t SELECT 1000 + i, 'u' FROM generate_series(1, {{users}}) i ON CONFLICT DO NOTHING;`,
    );
    await migrate(db, svc);
    const counts = () =>
      db.query<{ kind: string; n: string }>(
        'SELECT kind, count(*) AS n FROM delta.t GROUP BY kind ORDER BY kind',
      );
    await seed(db, svc, { products: 7, users: 3, reviews: 0 });
    await seed(db, svc, { products: 7, users: 3, reviews: 0 });
    expect(await counts()).toEqual([
      { kind: 'p', n: '7' },
      { kind: 'u', n: '3' },
    ]);
    await seed(db, svc, 'small');
    expect(await counts()).toEqual([
      { kind: 'p', n: '250' },
      { kind: 'u', n: '100' },
    ]);
  });
});
