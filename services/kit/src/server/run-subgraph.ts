import { createDb, type Db } from '../db/index.ts';
import type { Subgraph } from './create-subgraph.ts';

export interface RunnableService {
  definition: { name: string };
  createSubgraph(opts: { db: Db }): Subgraph;
}

/** The environment a subgraph process reads; everything else comes from the launcher. */
export interface SubgraphEnv {
  /** Required. */
  DATABASE_URL?: string;
  /** @default 0 */
  PORT?: string;
  /** @default '127.0.0.1' */
  HOST?: string;
  /** @default 4 */
  DB_POOL_MAX?: string;
}

/**
 * The body of every `services/<name>/src/main.ts`: read env, connect, listen, print one JSON ready
 * line on stdout for the launcher, and close server then pool on SIGTERM/SIGINT. It neither
 * migrates nor seeds; the launcher does that once for all replicas.
 */
export async function runSubgraph(service: RunnableService, env: SubgraphEnv = process.env): Promise<void> {
  const name = service.definition.name;
  let config: { url: string; port: number; host: string; poolMax: number };
  try {
    config = readEnv(env);
  } catch (err) {
    console.error(`${name}: ${(err as Error).message}`);
    process.exit(1);
  }
  const db = createDb(config.url, { max: config.poolMax });
  const subgraph = service.createSubgraph({ db });
  let url: string;
  try {
    // Fail before the ready line if the database is unreachable, so "ready" means ready.
    await db.query('SELECT 1');
    url = await subgraph.listen({ port: config.port, host: config.host });
  } catch (err) {
    console.error(`${name}: failed to start: ${(err as Error).message}`);
    await Promise.allSettled([subgraph.close(), db.close()]);
    process.exit(1);
  }

  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) {
      // A second signal means the user wants out now.
      process.exit(1);
    }
    stopping = true;
    try {
      await subgraph.close();
      await db.close();
      process.exit(0);
    } catch (err) {
      console.error(`${name}: error while stopping on ${signal}: ${(err as Error).message}`);
      process.exit(1);
    }
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // Started by the launcher (`npm start`)? Then stop when it is gone, even if it was SIGKILLed.
  const launcher = Number(process.env.TOLLGATE_PARENT_PID);
  if (launcher) {
    setInterval(() => {
      if (!stopping && process.ppid !== launcher) void stop('SIGTERM');
    }, 1_000).unref();
  }

  process.stdout.write(`${JSON.stringify({ ready: true, service: name, url })}\n`);
}

function readEnv(env: SubgraphEnv): { url: string; port: number; host: string; poolMax: number } {
  const url = env.DATABASE_URL?.trim();
  if (!url) throw new Error('DATABASE_URL is required (e.g. postgres://postgres@127.0.0.1:5432/postgres)');
  return {
    url,
    port: integer('PORT', env.PORT, 0, 0, 65_535),
    host: env.HOST?.trim() || '127.0.0.1',
    poolMax: integer('DB_POOL_MAX', env.DB_POOL_MAX, 4, 1, 100),
  };
}

function integer(key: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(`${key}: expected an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}
