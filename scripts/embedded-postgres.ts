// The embedded PostgreSQL as its own process, so PGlite's work never shares an event loop with the
// gateway or a replica. Prints one JSON ready line with the URL; stops cleanly on SIGTERM/SIGINT.
import { startEmbeddedPostgres } from '@tollgate/kit';

const dataDir = process.env.TOLLGATE_PG_DATA_DIR || undefined;
const pg = await startEmbeddedPostgres({ port: Number(process.env.PORT ?? 0), dataDir });
console.log(JSON.stringify({ ready: true, service: 'postgres', url: pg.url }));
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await pg.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
const parent = Number(process.env.TOLLGATE_PARENT_PID);
if (parent) {
  setInterval(() => {
    if (process.ppid !== parent) void stop();
  }, 1_000).unref();
}
