import { type ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { exited, freePort, stopProcess, waitFor, which } from './processes.ts';

/** A Redis server of this test run's own, on a free port, without persistence. */
export interface PrivateRedis {
  readonly url: string;
  /** SIGKILL: the server vanishes with everything it held. */
  kill(): Promise<void>;
  /** Starts it again on the same port, empty; resolves once it answers PING. */
  start(): Promise<void>;
  /** How many keys it holds (DBSIZE). */
  keys(): Promise<number>;
  stop(): Promise<void>;
}

/** Why a private Redis cannot run here, or undefined when it can. */
export function privateRedisUnavailable(): string | undefined {
  return which('redis-server') ? undefined : 'redis-server is not on PATH';
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const binary = which('redis-server');
  if (!binary) throw new Error('redis-server is not on PATH');
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    // --save "" and no AOF: a restarted server starts empty, as a cache node that lost its memory does.
    const proc = spawn(
      binary,
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--loglevel',
        'warning',
      ],
      { stdio: 'ignore' },
    );
    child = proc;
    await waitFor(`redis on ${port}`, async () => {
      if (proc.exitCode !== null) throw new Error(`redis-server exited with ${proc.exitCode}`);
      return ping(port);
    });
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    async kill() {
      if (child) await stopProcess(child, 'SIGKILL');
    },
    start,
    keys: async () => Number((await command(port, 'DBSIZE')).slice(1)),
    async stop() {
      if (child) await stopProcess(child, 'SIGTERM', 5_000);
      if (child) await exited(child);
    },
  };
}

const ping = async (port: number) => (await command(port, 'PING').catch(() => '')) === '+PONG';

/** Sends one inline command and resolves with the first reply line (`+PONG`, `:42`…). */
function command(port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(1_000, () => {
      socket.destroy();
      reject(new Error(`redis ${line}: no answer within 1 s`));
    });
    socket.once('error', reject);
    socket.once('connect', () => socket.write(`${line}\r\n`));
    socket.once('data', (d) => {
      socket.destroy();
      resolve(d.toString().split('\r\n')[0]!);
    });
  });
}
