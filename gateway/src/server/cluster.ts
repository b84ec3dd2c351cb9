// One gateway worker per core (issue 10): node:cluster forks the workers, which share the listening
// socket; this primary only supervises. It prints one ready line once every worker listens, replaces a
// worker that dies, and on SIGTERM/SIGINT stops them all (each drains its requests in flight) and exits 0.
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';

/** Sent by a worker to the primary when it listens. */
export interface WorkerReady {
  tollgate: 'ready';
  url: string;
  /** The admin listener's origin (every worker shares its port too). */
  adminUrl?: string;
}

const isReady = (m: unknown): m is WorkerReady =>
  typeof m === 'object' && m !== null && (m as WorkerReady).tollgate === 'ready';

/** How many workers `server.workers` asks for: 0 means one per core. */
export function workerCount(configured: number): number {
  return configured === 0 ? availableParallelism() : configured;
}

/** The line saying where the admin listener is. */
export const adminLine = (adminUrl: string) =>
  `tollgate: admin listener (/metrics, /admin/*, /health/*) at ${adminUrl}`;

/** In a worker: tell the primary this worker listens. Returns false outside a cluster. */
export function reportWorkerReady(url: string, adminUrl?: string): boolean {
  if (!cluster.isWorker || !process.send) return false;
  process.send({ tollgate: 'ready', url, adminUrl } satisfies WorkerReady);
  return true;
}

export interface PrimaryOptions {
  workers: number;
  /** Where the primary's lines go (the ready line goes to stdout). */
  log(message: string): void;
  /** Exits when this process is gone (the launcher's TOLLGATE_PARENT_PID). */
  launcherPid?: number;
}

/** Runs the supervising primary. Never resolves: the process exits from here. */
export function runPrimary(options: PrimaryOptions): Promise<never> {
  const { workers, log } = options;
  let stopping = false;
  let failed = false;
  let exitWith = 0;
  let announced = false;
  const ready = new Set<number>();
  // Workers watch the primary (not the launcher) for orphaning: their parent is this process.
  const env = { TOLLGATE_PARENT_PID: String(process.pid) };
  const restarts: number[] = [];

  const fork = (): Worker => {
    const worker = cluster.fork(env);
    worker.on('message', (message: unknown) => {
      if (!isReady(message)) return;
      ready.add(worker.id);
      if (!announced && ready.size >= workers) {
        announced = true;
        console.log(
          `tollgate: gateway ready at ${message.url} (${workers} workers, primary pid ${process.pid})`,
        );
        if (message.adminUrl) console.log(adminLine(message.adminUrl));
      }
    });
    return worker;
  };

  cluster.on('exit', (worker, code, signal) => {
    ready.delete(worker.id);
    if (stopping) {
      // SIGTERM is what this primary sent: a worker still starting has no handler yet and dies of it
      if (signal !== 'SIGTERM' && code !== 0) {
        failed = true;
        log(`tollgate: worker pid ${worker.process.pid} stopped with ${signal ?? `exit code ${code}`}`);
      }
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(failed ? 1 : exitWith);
      return;
    }
    // A crash loop would fork forever: at most 10 restarts a minute, then give up loudly.
    const now = Date.now();
    restarts.push(now);
    while (restarts.length && restarts[0]! < now - 60_000) restarts.shift();
    if (restarts.length > 10) {
      log(`tollgate: workers keep dying (last: pid ${worker.process.pid}, ${signal ?? code}); stopping`);
      void stop(1);
      return;
    }
    log(`tollgate: worker pid ${worker.process.pid} exited (${signal ?? code}); starting another`);
    fork();
  });

  const stop = async (exitCode = 0) => {
    if (stopping) return;
    stopping = true;
    exitWith = exitCode;
    const alive = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    if (alive.length === 0) process.exit(exitCode);
    for (const w of alive) w.process.kill('SIGTERM');
    if (exitCode !== 0) setTimeout(() => process.exit(exitCode), 15_000).unref();
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  if (options.launcherPid) {
    const launcher = options.launcherPid;
    setInterval(() => {
      if (process.ppid !== launcher) void stop();
    }, 1_000).unref();
  }

  for (let i = 0; i < workers; i++) fork();
  return new Promise<never>(() => {});
}
