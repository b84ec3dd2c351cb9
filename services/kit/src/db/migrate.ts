import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Queryable } from './create-db.ts';
import { quoteLiteral } from './sql.ts';

/** Where a service keeps its SQL: `<dir>/migrations/*.sql` and `<dir>/seed.sql`. */
export interface ServiceLocation {
  name: string;
  dir: string;
}

const UNIQUE_VIOLATION = '23505';

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS public.tollgate_migrations (
  service text NOT NULL,
  name text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (service, name)
)`;

/**
 * Applies `<dir>/migrations/*.sql` in filename order, each at most once per database, and
 * returns the names it applied. Each file runs as one parameterless message together with its
 * bookkeeping row, so PostgreSQL wraps both in one implicit transaction: a failing file leaves
 * nothing behind, and a second migrator racing on the same file blocks on the primary key and
 * then skips it.
 */
export async function migrate(db: Queryable, service: ServiceLocation): Promise<string[]> {
  const dir = join(service.dir, 'migrations');
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  await createTable(db);
  const done = new Set(
    (
      await db.query<{ name: string }>('SELECT name FROM public.tollgate_migrations WHERE service = $1', [
        service.name,
      ])
    ).map((r) => r.name),
  );
  const applied: string[] = [];
  for (const file of files) {
    if (done.has(file)) continue;
    const sql = await readFile(join(dir, file), 'utf8');
    // The bookkeeping row goes first so a concurrent migrator waits on its lock before running DDL.
    const text = `INSERT INTO public.tollgate_migrations (service, name) VALUES (${quoteLiteral(service.name)}, ${quoteLiteral(file)});\n${sql}`;
    try {
      await db.query(text);
    } catch (err) {
      if (isUniqueViolationOn(err, 'tollgate_migrations')) continue;
      throw new Error(`migration ${service.name}/${file} failed: ${(err as Error).message}`, { cause: err });
    }
    applied.push(file);
  }
  return applied;
}

async function createTable(db: Queryable): Promise<void> {
  try {
    await db.query(CREATE_TABLE);
  } catch (err) {
    // Two services migrating at once can both try to create the table; the loser sees a
    // unique violation on the catalog and the table exists by then.
    if (!isUniqueViolationOn(err)) throw err;
  }
}

function isUniqueViolationOn(err: unknown, table?: string): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { code, table: errTable, constraint } = err as { code?: string; table?: string; constraint?: string };
  if (code !== UNIQUE_VIOLATION) return false;
  return table === undefined || errTable === table || (constraint?.startsWith(table) ?? false);
}
