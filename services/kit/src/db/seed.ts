import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Queryable } from './create-db.ts';
import type { ServiceLocation } from './migrate.ts';

export interface SeedCounts {
  products: number;
  users: number;
  reviews: number;
}

/** `small` for tests and `npm start`, `bench` for load tests, or explicit counts. */
export type SeedSize = 'small' | 'bench' | SeedCounts;

export const SEED_SIZES = {
  small: { products: 250, users: 100, reviews: 1000 },
  bench: { products: 10_000, users: 2_000, reviews: 100_000 },
} as const satisfies Record<string, SeedCounts>;

const PLACEHOLDER = /\{\{\s*(\w+)\s*\}\}/g;

export function resolveSeedSize(size: SeedSize): SeedCounts {
  const counts = typeof size === 'string' ? SEED_SIZES[size] : size;
  if (counts === undefined) throw new TypeError(`unknown seed size: ${String(size)}`);
  for (const key of ['products', 'users', 'reviews'] as const) {
    const n = counts[key];
    if (!Number.isSafeInteger(n) || n < 0) throw new TypeError(`seed ${key} must be a non-negative integer`);
  }
  // Seeds derive foreign keys with `% products` and `% users`, so those cannot be zero when
  // there is anything referring to them.
  if (counts.reviews > 0 && (counts.products === 0 || counts.users === 0)) {
    throw new TypeError('seeding reviews needs at least one product and one user');
  }
  return counts;
}

/** Substitutes `{{products}}`, `{{users}}` and `{{reviews}}` with integers. */
export function renderSeed(sql: string, counts: SeedCounts): string {
  return sql.replace(PLACEHOLDER, (_, name: string) => {
    if (name === 'products' || name === 'users' || name === 'reviews') return String(counts[name]);
    throw new Error(`unknown seed placeholder {{${name}}}`);
  });
}

/**
 * Runs `<dir>/seed.sql` with the counts substituted. The SQL is deterministic and idempotent
 * (`ON CONFLICT DO NOTHING`), and goes as one parameterless message, so it is one transaction.
 * A service without a seed file is left alone.
 */
export async function seed(db: Queryable, service: ServiceLocation, size: SeedSize): Promise<void> {
  const counts = resolveSeedSize(size);
  let sql: string;
  try {
    sql = await readFile(join(service.dir, 'seed.sql'), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  try {
    await db.query(renderSeed(sql, counts));
  } catch (err) {
    throw new Error(`seed ${service.name} failed: ${(err as Error).message}`, { cause: err });
  }
}
