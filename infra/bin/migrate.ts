// Container entry point of a subgraph image: migrates and seeds the service in the working directory
// (the image's WORKDIR, /app/services/<name>) on DATABASE_URL, then exits. Compose runs it as a one-shot
// service and Kubernetes as an init container: each migration applies once per database (concurrent
// runs wait on each other) and seeds are idempotent, so running it on every start is safe.
//   node /app/dist/infra/bin/migrate.js      env: DATABASE_URL, SEED_SIZE = small | bench | none
import { basename } from 'node:path';
import { createDb, migrate, type SeedSize, seed } from '@tollgate/kit';

const SEED_SIZES: Record<string, SeedSize | null> = { small: 'small', bench: 'bench', none: null };

const dir = process.cwd();
const name = basename(dir);
const url = process.env.DATABASE_URL?.trim();
const seedSize = SEED_SIZES[process.env.SEED_SIZE?.trim() || 'small'];

if (!url) {
  console.error(`${name} migrate: DATABASE_URL is required`);
  process.exit(1);
}
if (seedSize === undefined) {
  console.error(
    `${name} migrate: SEED_SIZE: expected small, bench or none, got ${JSON.stringify(process.env.SEED_SIZE)}`,
  );
  process.exit(1);
}

const db = createDb(url, { max: 1 });
try {
  const applied = await migrate(db, { name, dir });
  if (seedSize) await seed(db, { name, dir }, seedSize);
  console.log(JSON.stringify({ migrated: true, service: name, applied, seed: seedSize ?? 'none' }));
} catch (error) {
  console.error(`${name} migrate: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await db.close();
}
