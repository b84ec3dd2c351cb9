// PostgreSQL access shared by every subgraph: a counted pg pool, migrations, seeds and the
// embedded PGlite server used when no DATABASE_URL is given.
export { createDb, type Db, type DbOptions, type Queryable } from './create-db.ts';
export { type EmbeddedPostgres, type EmbeddedPostgresOptions, startEmbeddedPostgres } from './embedded.ts';
export { migrate, type ServiceLocation } from './migrate.ts';
export { SEED_SIZES, type SeedCounts, type SeedSize, seed } from './seed.ts';
