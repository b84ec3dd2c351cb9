import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, stopProcess, waitFor, which } from '../../chaos/lib/processes.ts';

/**
 * HAProxy in TCP mode in front of the gateways: the stand-in for a cloud network load balancer (layer 4,
 * a health check per target). Its config, pid file and runtime socket live in one temporary folder with
 * a fixed name, so a run can stop the HAProxy an earlier, killed run left behind.
 */
export interface Balancer {
  /** The GraphQL URL clients use (loopback). */
  readonly url: string;
  /** Each server's state as HAProxy sees it (`UP`, `DOWN`, `UP 1/2`…) and its counters so far. */
  servers(): Promise<Record<string, ServerStats>>;
  /** Resolves once HAProxy says `server` is in `status` (exactly); the ms it took. */
  waitFor(server: string, status: 'UP' | 'DOWN', timeoutMs?: number): Promise<number>;
  stop(): Promise<void>;
}

export interface ServerStats {
  status: string;
  /** Sessions (client connections) it was given. */
  sessions: number;
  /** Connection attempts to it that failed and were tried again (`wretr`). */
  retries: number;
  /** Sessions moved from it to another server after a failed connection (`wredis`). */
  redispatches: number;
}

export interface BalancerOptions {
  /** Server name → `address:port`. */
  servers: Record<string, string>;
  /** Health check interval (ms); `fall` and `rise` are 2. @default 200 */
  checkIntervalMs?: number;
}

const DIR = join(tmpdir(), 'tollgate-cluster-haproxy');

/** Stops an HAProxy that an earlier run of this suite started and did not stop (its pid file says which). */
export function stopLeftoverBalancer(): void {
  const pidFile = join(DIR, 'haproxy.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  const cmdline = (() => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      return '';
    }
  })();
  // only ours: an HAProxy whose command line names this folder's config
  if (pid > 0 && cmdline.includes('haproxy') && cmdline.includes(DIR)) process.kill(pid, 'SIGKILL');
  rmSync(DIR, { recursive: true, force: true });
}

export async function startBalancer(options: BalancerOptions): Promise<Balancer> {
  const binary = which('haproxy');
  if (!binary) throw new Error('haproxy is not on PATH');
  stopLeftoverBalancer();
  mkdirSync(DIR, { recursive: true });
  const port = await freePort();
  const socket = join(DIR, 'admin.sock');
  const inter = options.checkIntervalMs ?? 200;
  const config = join(DIR, 'haproxy.cfg');
  writeFileSync(
    config,
    [
      'global',
      '  maxconn 4096',
      `  stats socket ${socket} mode 600 level admin`,
      `  pidfile ${join(DIR, 'haproxy.pid')}`,
      'defaults',
      '  mode tcp',
      '  timeout connect 1s',
      // above any keep-alive idle time of the clients (undici's is 4 s) and the gateways (65 s is theirs,
      // the client closes first): HAProxy never cuts a connection a client may be about to reuse
      '  timeout client 60s',
      '  timeout server 60s',
      // a connection a gateway refuses (its listener closed on SIGTERM, or the process is gone) is tried
      // again on another server: nothing was sent, so this is safe for any request
      '  retries 3',
      '  option redispatch 1',
      'frontend graphql',
      `  bind 127.0.0.1:${port}`,
      '  default_backend gateways',
      'backend gateways',
      '  balance roundrobin',
      // the gateway fails readiness the moment it gets SIGTERM; no on-marked-down shutdown-sessions: the
      // gateway drains its own connections (each response then says Connection: close), and cutting them
      // here would cut requests in flight
      '  option httpchk GET /health/ready',
      '  http-check expect status 200',
      `  default-server inter ${inter}ms fastinter ${inter}ms downinter ${inter}ms fall 2 rise 2`,
      ...Object.entries(options.servers).map(([name, target]) => `  server ${name} ${target} check`),
      '',
    ].join('\n'),
  );
  let stderr = '';
  // -db: foreground, no daemon; the test owns the process
  const child: ChildProcess = spawn(binary, ['-db', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4_000);
  });
  const runtime = (command: string) => runtimeCommand(socket, command);
  const servers = async () => {
    const csv = await runtime('show stat');
    const [header, ...rows] = csv.split('\n').filter(Boolean);
    const columns = (header ?? '').replace(/^# /, '').split(',');
    const at = (name: string) => columns.indexOf(name);
    const result: Record<string, ServerStats> = {};
    for (const row of rows) {
      const cells = row.split(',');
      const sv = cells[at('svname')];
      if (cells[at('pxname')] !== 'gateways' || !sv || sv === 'BACKEND') continue;
      const count = (column: string) => Number(cells[at(column)] || 0);
      result[sv] = {
        status: cells[at('status')] ?? '',
        sessions: count('stot'),
        retries: count('wretr'),
        redispatches: count('wredis'),
      };
    }
    return result;
  };
  try {
    await waitFor('haproxy runtime socket', async () => {
      if (child.exitCode !== null) throw new Error(`haproxy exited with ${child.exitCode}: ${stderr}`);
      return Object.keys(await servers()).length > 0;
    });
  } catch (error) {
    await stopProcess(child, 'SIGKILL');
    throw error;
  }
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    servers,
    waitFor: (server, status, timeoutMs = 30_000) =>
      waitFor(
        `haproxy: ${server} ${status}`,
        async () => (await servers())[server]?.status === status,
        timeoutMs,
      ),
    async stop() {
      await stopProcess(child, 'SIGTERM', 5_000);
      rmSync(DIR, { recursive: true, force: true });
    },
  };
}

/** One command on HAProxy's runtime API socket; resolves with the whole answer. */
function runtimeCommand(path: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(path);
    let out = '';
    s.setTimeout(2_000, () => {
      s.destroy();
      reject(new Error(`haproxy ${command}: no answer within 2 s`));
    });
    s.once('error', reject);
    s.once('connect', () => s.write(`${command}\n`));
    s.on('data', (d: Buffer) => {
      out += d.toString();
    });
    s.once('end', () => resolve(out));
  });
}
