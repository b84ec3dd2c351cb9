import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, type TestDatabase } from '@tollgate/kit/testing';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { loadDevSigningKey, signDevToken } from '../../../gateway/src/auth/index.ts';
import { DEV_AUDIENCE, DEV_ISSUER, devKeysDir, loadSigningSecret } from '../../../scripts/dev-auth.ts';
import { type Stack, startStack } from '../../../scripts/stack.ts';
import { type PrivateRedis, startPrivateRedis } from '../../chaos/lib/private-redis.ts';
import { exited, stopProcess } from '../../chaos/lib/processes.ts';
import { type Balancer, startBalancer } from './haproxy.ts';
import { createNetwork, type Host, NET, removeNetwork } from './netns.ts';
import { deleteKeys } from './redis-keys.ts';
import { type Relay, startRelay } from './relay.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const LOG_DIR = join(ROOT, '.tollgate', 'cluster');
const GATEWAY_BIN = join(ROOT, 'gateway', 'bin', 'tollgate.js');
/** Every gateway listens on this port of its own namespace's address. */
export const GATEWAY_PORT = 4000;
export const GATEWAYS = 3;

/** The one budget of scenario (c): a plan of this many points that refills next to nothing meanwhile. */
export const BUDGET = { capacity: 100, restoreRate: 0.001 } as const;

/** One gateway process in its own namespace. */
export interface ClusterGateway {
  /** HAProxy's name for it: gw1, gw2, gw3. */
  readonly name: string;
  readonly host: Host;
  readonly child: ChildProcess | undefined;
  /** Starts it (again) in its namespace; resolves once it printed its ready line. */
  start(): Promise<void>;
  /**
   * Sends `signal` and resolves once it is gone. A process still there STOP_GRACE_MS after a SIGTERM is
   * killed (exit `SIGKILL`); `stuck` then says what its namespace still had open just before.
   */
  stop(signal: NodeJS.Signals): Promise<Stopped>;
  /** Everything it wrote (stdout and stderr, every start) in this run. */
  log(): string;
}

export interface Stopped {
  /** The exit code, or the name of the signal that ended it. */
  exit: number | string;
  /** Its sockets on GATEWAY_PORT when it had not exited in time: its listener, and client connections. */
  stuck?: { listening: number; clients: number };
}

/** The gateway's own drain ends by server.shutdownGraceMs (10 s): this leaves it room on a busy machine. */
const STOP_GRACE_MS = 15_000;

export interface Cluster {
  gateways: readonly ClusterGateway[];
  balancer: Balancer;
  /** `real` (REDIS_URL) or `private` (a redis-server of this run's own). */
  redisKind: 'real' | 'private';
  databaseKind: 'real' | 'embedded';
  /** A token of the stack's dev key; its principal draws on the BUDGET plan. */
  token: string;
  /** Resolves once HAProxy sees every gateway UP. */
  allUp(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Three gateways, each in its own network namespace, behind HAProxy, on one Redis (budgets) and one
 * PostgreSQL (behind the subgraph replicas, which run in the root namespace on the bridge address).
 * Everything it started is stopped by `stop()`, and by the cleanup of a failed start.
 */
export async function startCluster(log: (line: string) => void = console.log): Promise<Cluster> {
  const cleanups: (() => Promise<void> | void)[] = [];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) await Promise.resolve(fn()).catch(() => {});
  };
  try {
    rmSync(LOG_DIR, { recursive: true, force: true });
    const hosts = createNetwork(GATEWAYS);
    cleanups.push(() => removeNetwork(GATEWAYS));

    // Budgets live in Redis: the machine's (REDIS_URL) or a private one. The gateways reach it through
    // a relay on the bridge address, since its listener is on the root namespace's loopback.
    let redisUrl = process.env.REDIS_URL;
    let privateRedis: PrivateRedis | undefined;
    if (!redisUrl) {
      privateRedis = await startPrivateRedis();
      cleanups.push(() => privateRedis?.stop());
      redisUrl = privateRedis.url;
    }
    const target = new URL(redisUrl);
    const relay: Relay = await startRelay(NET.host, {
      host: target.hostname,
      port: Number(target.port || 6379),
    });
    cleanups.push(() => relay.close());
    const gatewayRedis = new URL(redisUrl);
    gatewayRedis.host = relay.address;

    // A fresh database on the machine's PostgreSQL (DATABASE_URL), or the stack's embedded one.
    let db: TestDatabase | undefined;
    if (process.env.DATABASE_URL) {
      db = await createTestDatabase();
      cleanups.push(() => db?.close());
    }
    const stateDir = join(ROOT, '.tollgate', `cluster-${process.pid}`);
    cleanups.push(() => rmSync(stateDir, { recursive: true, force: true }));
    // Only products (2 replicas): the scenarios are about the gateways, and the machine is small.
    const stack: Stack = await startStack({
      port: 0,
      host: '127.0.0.1',
      databaseUrl: db?.url,
      dataDir: 'memory',
      redisUrl,
      stateDir,
      services: ['products'],
      // the replicas listen on the bridge address, where the namespaced gateways reach them
      env: { HOST: NET.host },
      readyTimeoutMs: 120_000,
    });
    cleanups.push(() => stack.stop());
    // startStack's own gateway (root namespace) is not part of the cluster
    await stopProcess(stack.gateway, 'SIGTERM');
    log(
      `cluster: replicas ${stack.replicas.map((r) => r.url).join(', ')}; Redis ${redisUrl} (relay ${relay.address}); database ${db ? 'real' : 'embedded'}`,
    );

    const runId = `cluster-${process.pid}`;
    const configFile = join(stateDir, 'cluster.gateway.yaml');
    writeFileSync(configFile, stringifyYaml(gatewayConfig(stateDir, runId)));
    // after the gateways are gone (cleanups run in reverse): nothing writes them again
    const budgetRedis = redisUrl;
    cleanups.push(() => deleteKeys(budgetRedis, `tollgate:${runId}:`).then(() => {}));
    const env = {
      ...process.env,
      // production, as behind a real balancer (Apollo's own signal handling is on outside NODE_ENV=test)
      NODE_ENV: 'production',
      REDIS_URL: gatewayRedis.toString(),
      TOLLGATE_SIGNING_SECRET: await loadSigningSecret(stateDir),
      // a gateway whose launcher died stops itself: no orphans in the namespaces
      TOLLGATE_PARENT_PID: String(process.pid),
    };
    const gateways = hosts.map((host, i) => namespacedGateway(`gw${i + 1}`, host, configFile, env));
    cleanups.push(() => Promise.all(gateways.map((g) => g.stop('SIGKILL'))).then(() => {}));
    await Promise.all(gateways.map((g) => g.start()));

    const balancer = await startBalancer({
      servers: Object.fromEntries(gateways.map((g) => [g.name, `${g.host.address}:${GATEWAY_PORT}`])),
    });
    cleanups.push(() => balancer.stop());
    const allUp = async (timeoutMs = 30_000) => {
      await Promise.all(gateways.map((g) => balancer.waitFor(g.name, 'UP', timeoutMs)));
    };
    await allUp();

    const key = await loadDevSigningKey(devKeysDir(stateDir));
    const token = await signDevToken(
      { sub: `cluster-${process.pid}` },
      { issuer: DEV_ISSUER, audience: DEV_AUDIENCE, key },
    );
    return {
      gateways,
      balancer,
      redisKind: process.env.REDIS_URL ? 'real' : 'private',
      databaseKind: db ? 'real' : 'embedded',
      token,
      allUp,
      stop: cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/** The stack's gateway config with the cluster's listener, budgets and store settings laid over it. */
function gatewayConfig(stateDir: string, runId: string): Record<string, unknown> {
  const base = parseYaml(readFileSync(join(stateDir, 'stack.gateway.yaml'), 'utf8')) as Record<
    string,
    Record<string, unknown>
  >;
  return {
    ...base,
    server: { ...base.server, host: '0.0.0.0', port: GATEWAY_PORT, introspection: false },
    log: { level: 'info', format: 'json' },
    ratelimit: {
      plans: {
        // the load of (a) and (b) comes anonymously from HAProxy's address: never throttled
        anonymous: { capacity: 1_000_000, restoreRate: 100_000 },
        cluster: BUDGET,
      },
      defaultPlan: 'cluster',
      // A budget is shared only through Redis: a slow Redis call must not fall back to a local budget
      // per gateway (3× the capacity), so it waits longer than the default and fails closed (503).
      failureMode: 'closed',
      redisTimeoutMs: 2_000,
      // this run's keys only, on a Redis other runs may share
      keyPrefix: `tollgate:${runId}:rl:`,
    },
    auth: {
      ...base.auth,
      anonymous: { enabled: true, plan: 'anonymous' },
      jwt: { ...(base.auth?.jwt as object), defaultPlan: 'cluster' },
    },
  };
}

/** The TCP sockets on GATEWAY_PORT in `netns`: listening, and connections from clients. */
function portSockets(netns: string): { listening: number; clients: number } {
  // State Recv-Q Send-Q Local:Port Peer:Port
  const rows = execFileSync('ip', ['netns', 'exec', netns, 'ss', '-Htan'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((r) => r[3]?.endsWith(`:${GATEWAY_PORT}`));
  return {
    listening: rows.filter((r) => r[0] === 'LISTEN').length,
    clients: rows.filter((r) => r[0] !== 'LISTEN').length,
  };
}

function namespacedGateway(
  name: string,
  host: Host,
  configFile: string,
  env: NodeJS.ProcessEnv,
): ClusterGateway {
  let child: ChildProcess | undefined;
  return {
    name,
    host,
    get child() {
      return child;
    },
    async start() {
      // `ip netns exec` enters the namespace and execs node: the pid is the gateway's own
      const proc = spawn(
        'ip',
        ['netns', 'exec', host.netns, process.execPath, GATEWAY_BIN, '--config', configFile],
        {
          cwd: ROOT,
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      child = proc;
      let stderr = '';
      // every line it writes, kept for a look after a run (.tollgate/cluster/gwN.log)
      mkdirSync(LOG_DIR, { recursive: true });
      const logFile = createWriteStream(join(LOG_DIR, `${name}.log`), { flags: 'a' });
      proc.stdout!.pipe(logFile);
      proc.stderr!.on('data', (d: Buffer) => {
        logFile.write(d);
        stderr = (stderr + d.toString()).slice(-4_000);
      });
      await new Promise<void>((resolve, reject) => {
        let buffer = '';
        let ready = false;
        const timer = setTimeout(() => {
          proc.kill('SIGKILL');
          reject(new Error(`${name} not ready within 60 s\n${stderr}`));
        }, 60_000);
        proc.stdout!.on('data', (d: Buffer) => {
          if (ready) return; // the log file has it
          buffer += d.toString();
          if (/gateway ready at /.test(buffer)) {
            ready = true;
            buffer = '';
            clearTimeout(timer);
            proc.off('exit', onExit);
            resolve();
          }
        });
        const onExit = (code: number | null) => {
          clearTimeout(timer);
          reject(new Error(`${name} exited with ${code} before it was ready\n${stderr.trim()}`));
        };
        proc.once('exit', onExit);
      });
    },
    log: () => {
      try {
        return readFileSync(join(LOG_DIR, `${name}.log`), 'utf8');
      } catch {
        return '';
      }
    },
    async stop(signal) {
      if (!child) return { exit: 'not started' };
      const proc = child;
      const done = exited(proc);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      if (signal === 'SIGKILL') return { exit: await done };
      let timer: NodeJS.Timeout | undefined;
      const late = await Promise.race([
        done.then(() => false),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), STOP_GRACE_MS))),
      ]);
      clearTimeout(timer);
      if (!late) return { exit: await done };
      const stuck = portSockets(host.netns);
      proc.kill('SIGKILL');
      return { exit: await done, stuck };
    },
  };
}
