import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { freePort, stopProcess, waitFor } from './processes.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** A PostgreSQL server of this test run's own, which a test may restart. */
export interface PrivateDatabase {
  /** `postgres` (a real server from this machine's binaries) or `embedded` (PGlite, as a child process). */
  readonly kind: 'postgres' | 'embedded';
  readonly url: string;
  /** Shuts the server down (fast: sessions are ended, open transactions roll back) and starts it again. */
  restart(): Promise<{ downMs: number }>;
  stop(): Promise<void>;
}

interface Binaries {
  initdb: string;
  postgres: string;
  /** Who runs them: initdb and postgres refuse to run as root. */
  user: { uid: number; gid: number } | undefined;
}

/** PostgreSQL's binaries on this machine and a user allowed to run them, or why there are none. */
function findBinaries(): Binaries | string {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base)
    ? readdirSync(base)
        .filter(
          (v) => existsSync(join(base, v, 'bin', 'initdb')) && existsSync(join(base, v, 'bin', 'postgres')),
        )
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const bin = versions[0] === undefined ? undefined : join(base, versions[0], 'bin');
  if (!bin) return `no PostgreSQL binaries under ${base}/*/bin`;
  let user: Binaries['user'];
  if (process.getuid?.() === 0) {
    try {
      const id = (flag: string) =>
        Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
      user = { uid: id('-u'), gid: id('-g') };
    } catch {
      return 'running as root and there is no postgres user to run initdb as';
    }
  }
  return { initdb: join(bin, 'initdb'), postgres: join(bin, 'postgres'), user };
}

/**
 * A private PostgreSQL from the machine's binaries (initdb in a temporary folder, trust auth, its own
 * port), or, where that is impossible, the embedded PGlite server as a restartable child process.
 * `log` is told which one and why.
 */
export async function startPrivateDatabase(log: (line: string) => void = () => {}): Promise<PrivateDatabase> {
  const binaries = findBinaries();
  if (typeof binaries !== 'string') {
    try {
      return await startPostgres(binaries);
    } catch (error) {
      log(`private PostgreSQL failed (${(error as Error).message.split('\n')[0]}); using embedded PGlite`);
    }
  } else {
    log(`no private PostgreSQL (${binaries}); using embedded PGlite`);
  }
  return startEmbedded();
}

async function startPostgres(bin: Binaries): Promise<PrivateDatabase> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-chaos-pg-'));
  const data = join(dir, 'data');
  const owner = bin.user ? { uid: bin.user.uid, gid: bin.user.gid } : {};
  if (bin.user) chownSync(dir, bin.user.uid, bin.user.gid);
  const env = { ...process.env, LC_ALL: 'C', LANG: 'C' };
  try {
    execFileSync(bin.initdb, ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync'], {
      ...owner,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const port = await freePort();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let child: ChildProcess | undefined;
  let stderr = '';
  const start = async () => {
    stderr = '';
    const proc = spawn(
      bin.postgres,
      [
        ...['-D', data, '-p', String(port), '-k', dir],
        ...['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', 'fsync=off'],
      ],
      { ...owner, env, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    proc.stderr!.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2_000);
    });
    child = proc;
    await waitFor(`PostgreSQL on ${port}`, async () => {
      if (proc.exitCode !== null) throw new Error(`postgres exited with ${proc.exitCode}: ${stderr}`);
      return canConnect(url);
    });
  };
  try {
    await start();
  } catch (error) {
    if (child) await stopProcess(child, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    kind: 'postgres',
    url,
    async restart() {
      const t0 = Date.now();
      // SIGINT is PostgreSQL's fast shutdown (pg_ctl stop -m fast).
      if (child) await stopProcess(child, 'SIGINT', 20_000);
      await start();
      return { downMs: Date.now() - t0 };
    },
    async stop() {
      if (child) await stopProcess(child, 'SIGINT', 10_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startEmbedded(): Promise<PrivateDatabase> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-chaos-pglite-'));
  const port = await freePort();
  let child: ChildProcess | undefined;
  let url = '';
  const start = async () => {
    const proc = spawn(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', join(ROOT, 'scripts', 'embedded-postgres.ts')],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          TOLLGATE_PG_DATA_DIR: dir,
          PORT: String(port),
          TOLLGATE_PARENT_PID: String(process.pid),
        },
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    child = proc;
    url = await new Promise<string>((resolve, reject) => {
      let buffer = '';
      proc.stdout!.on('data', (d: Buffer) => {
        buffer += d.toString();
        const line = buffer.split('\n').find((l) => l.includes('"ready":true'));
        if (line) resolve((JSON.parse(line) as { url: string }).url);
      });
      proc.once('exit', (code) => reject(new Error(`embedded PostgreSQL exited with ${code}`)));
    });
  };
  await start();
  return {
    kind: 'embedded',
    get url() {
      return url;
    },
    async restart() {
      const t0 = Date.now();
      if (child) await stopProcess(child, 'SIGTERM', 20_000);
      await start();
      return { downMs: Date.now() - t0 };
    },
    async stop() {
      if (child) await stopProcess(child, 'SIGTERM', 10_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}
