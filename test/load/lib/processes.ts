// Child processes of the bench: spawned pinned to a CPU, each in its own process group so teardown
// reaches everything they start, and measured from /proc (CPU ticks and RSS) by pid.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

const TASKSET = '/usr/bin/taskset';

export interface Pinning {
  enabled: boolean;
  /** CPU of the gateway under test (alone). */
  gatewayCpu: number;
  /** CPU shared by the subgraphs, the database (real profile), the load generator and the bench itself. */
  loadCpu: number;
  reason: string;
}

/** Pins only when there are two cores or more, as issue 10 asks; otherwise says why not. */
export function planPinning(): Pinning {
  const cpus = availableParallelism();
  if (cpus < 2) return { enabled: false, gatewayCpu: 0, loadCpu: 0, reason: `${cpus} core: no pinning` };
  if (!existsSync(TASKSET))
    return { enabled: false, gatewayCpu: 1, loadCpu: 0, reason: `${TASKSET} not found: no pinning` };
  return {
    enabled: true,
    gatewayCpu: 1,
    loadCpu: 0,
    reason: `${cpus} cores: gateway alone on CPU 1; subgraphs, load generator and bench on CPU 0`,
  };
}

/** Pins this process (all its threads, `-a`) so autocannon and everything spawned later inherit CPU `cpu`. */
export function pinSelf(cpu: number): void {
  execFileSync(TASKSET, ['-a', '-p', '-c', String(cpu), String(process.pid)], { stdio: 'ignore' });
}

export interface StartOptions {
  /** Arguments after `node`. */
  args: readonly string[];
  env?: Record<string, string | undefined>;
  /** Pin to this CPU with taskset (it execs node, so the pid we measure is node's). */
  cpu?: number | string | undefined;
  /** A stdout line that means ready. */
  ready: RegExp;
  timeoutMs?: number;
  cwd: string;
}

export interface Child {
  readonly name: string;
  readonly pid: number;
  readonly process: ChildProcess;
  /** The stdout line that matched `ready`. */
  readonly readyLine: string;
  /** The last few KB of stderr, for error messages. */
  stderrTail(): string;
}

const children = new Set<ChildProcess>();

/** Starts `node <args>` in its own process group and resolves once it prints its ready line. */
export function startChild(name: string, options: StartOptions): Promise<Child> {
  const [command, args] =
    options.cpu === undefined
      ? [process.execPath, [...options.args]]
      : [TASKSET, ['-c', String(options.cpu), process.execPath, ...options.args]];
  // detached: own process group, so one kill(-pid) also reaches anything the child spawns; and Ctrl-C in
  // the terminal reaches only the bench, which then stops children in order instead of all at once.
  // TOLLGATE_PARENT_PID: the child stops by itself if the bench dies without cleaning up (SIGKILL).
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env, TOLLGATE_PARENT_PID: String(process.pid) },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4_000);
  });
  const timeoutMs = options.timeoutMs ?? 60_000;
  return new Promise<Child>((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => {
      void stopChild(child);
      reject(new Error(`${name} did not become ready within ${timeoutMs} ms\n${stderr.trim()}`));
    }, timeoutMs);
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${signal ?? code}) before it was ready\n${stderr.trim()}`));
    };
    const onData = (d: Buffer) => {
      buffer += d.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      const line = lines.find((l) => options.ready.test(l));
      if (line === undefined) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      child.stdout!.off('data', onData);
      child.stdout!.resume();
      resolve({ name, pid: child.pid!, process: child, readyLine: line, stderrTail: () => stderr.trim() });
    };
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is already gone.
  }
}

/** SIGTERM to the child's process group, SIGKILL after `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    // The leader is gone, but something it started may still hold the group.
    signalGroup(child, 'SIGKILL');
    return;
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  signalGroup(child, 'SIGTERM');
  const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
  signalGroup(child, 'SIGKILL');
}

/** Stops every child still running, newest first (gateways before the subgraphs they call). */
export async function stopAllChildren(): Promise<void> {
  for (const child of [...children].reverse()) await stopChild(child);
}

// A last resort when the bench exits without having awaited stopAllChildren (an uncaught error).
process.once('exit', () => {
  for (const child of children) signalGroup(child, 'SIGKILL');
});

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** User + system CPU time of a process (all its threads), in milliseconds, from /proc/<pid>/stat. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces and parentheses: count fields after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / ticksPerSecond();
}

/** The pids of a process's children (Linux: /proc/<pid>/task/<tid>/children over its threads). */
function childPids(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
      readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8')
        .trim()
        .split(/\s+/)
        .filter(Boolean)
        .map(Number),
    );
  } catch {
    return [];
  }
}

/** A process and every live descendant (a `server.workers` gateway is a primary and its workers). */
function treePids(pid: number): number[] {
  const seen = new Set<number>();
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop()!;
    if (seen.has(p)) continue;
    seen.add(p);
    stack.push(...childPids(p));
  }
  return [...seen];
}

/** Sums `read` over the tree, skipping processes that exited meanwhile. */
function sumTree(pid: number, read: (p: number) => number): number {
  let total = 0;
  for (const p of treePids(pid)) {
    try {
      total += read(p);
    } catch {
      // exited meanwhile
    }
  }
  return total;
}

/** cpuMs over a process and its descendants: the same figure for a single process. */
export const treeCpuMs = (pid: number): number => sumTree(pid, cpuMs);
/** rssBytes over a process and its descendants. */
export const treeRssBytes = (pid: number): number => sumTree(pid, rssBytes);

/** Resident set size in bytes, from /proc/<pid>/status. */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return match ? Number(match[1]) * 1024 : Number.NaN;
}
