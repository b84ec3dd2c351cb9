import { cp, mkdir, mkdtemp, readFile, rename, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface EmbeddedPostgresOptions {
  /** @default 0 (any free port) */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /**
   * Directory to keep the database in across runs. Without it every start gets a fresh, empty
   * database in a temporary directory that `close()` removes.
   */
  dataDir?: string;
  /**
   * Client connections accepted at once. They all share PGlite's single session, so this is a
   * socket limit, not a concurrency knob: 8 replicas × a pool of 4 plus tooling must fit.
   * @default 100
   */
  maxConnections?: number;
}

export interface EmbeddedPostgres {
  /** `postgres://postgres@HOST:PORT/postgres?sslmode=disable` */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * PGlite served over the PostgreSQL wire protocol, so every replica (and psql) can reach it
 * through `pg`. One session serves all connections: see `createDb` for what that forbids.
 */
export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgres> {
  const host = opts.host ?? '127.0.0.1';
  const scratch = opts.dataDir === undefined ? await freshDataDir() : undefined;
  const pglite = await PGlite.create(opts.dataDir ?? scratch);
  const server = new PGLiteSocketServer({
    db: pglite,
    port: opts.port ?? 0,
    host,
    maxConnections: opts.maxConnections ?? 100,
  });
  const release = async () => {
    await pglite.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  };
  try {
    await server.start();
  } catch (err) {
    await release();
    throw err;
  }
  // getServerConn() reports the port the OS picked when we asked for 0.
  const port = server.getServerConn().split(':').pop();
  const url = `postgres://postgres@${host}:${port}/postgres?sslmode=disable`;
  let closed: Promise<void> | undefined;
  return {
    url,
    close() {
      closed ??= (async () => {
        await server.stop();
        await release();
      })();
      return closed;
    },
  };
}

// initdb inside PGlite takes most of a start (seconds, more on a busy CI box), and parallel test
// files each start their own server. So initdb runs once per PGlite version into a template
// directory under the OS temp dir, and each start copies it, which takes a fraction of that.
let template: Promise<string> | undefined;

async function freshDataDir(): Promise<string> {
  template ??= ensureTemplate().catch((err: unknown) => {
    template = undefined;
    throw err;
  });
  const source = await template;
  const dir = await mkdtemp(join(tmpdir(), 'tollgate-pglite-'));
  await cp(source, dir, { recursive: true });
  return dir;
}

async function ensureTemplate(): Promise<string> {
  const root = join(tmpdir(), 'tollgate-pglite-templates');
  const target = join(root, await pgliteVersion());
  if (await exists(join(target, 'PG_VERSION'))) return target;
  await mkdir(root, { recursive: true });
  const building = await mkdtemp(join(root, 'building-'));
  try {
    const pglite = await PGlite.create(building);
    await pglite.close();
    // rename is atomic: another process building the same template at the same time either
    // finished first (our rename fails and we use theirs) or finds ours complete.
    await rename(building, target);
  } catch (err) {
    await rm(building, { recursive: true, force: true });
    if (!(await exists(join(target, 'PG_VERSION')))) throw err;
  }
  return target;
}

async function pgliteVersion(): Promise<string> {
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const manifest = JSON.parse(await readFile(join(dirname(entry), '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
