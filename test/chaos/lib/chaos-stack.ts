import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadDevSigningKey, signDevToken } from '../../../gateway/src/auth/index.ts';
import { DEV_AUDIENCE, DEV_ISSUER, devKeysDir } from '../../../scripts/dev-auth.ts';
import { type Stack, startStack } from '../../../scripts/stack.ts';
import { type PrivateDatabase, startPrivateDatabase } from './private-postgres.ts';
import { type PrivateRedis, privateRedisUnavailable, startPrivateRedis } from './private-redis.ts';
import { waitFor } from './processes.ts';
import { WRITER_ID } from './workload.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** The whole stack (gateway, 2 replicas per subgraph) on a PostgreSQL and a Redis of its own. */
export interface ChaosStack {
  stack: Stack;
  db: PrivateDatabase;
  redis: PrivateRedis;
  /** A token of the stack's dev key for user WRITER_ID: the writes need a caller. */
  token: string;
  /**
   * Resolves once /health/ready of the admin listener `adminUrl` (the stack gateway's by default) says
   * every subgraph has a replica up and none is down.
   */
  allReplicasUp(adminUrl?: string, timeoutMs?: number): Promise<number>;
  stop(): Promise<void>;
}

/** Gateway settings every scenario runs with. */
export const CHAOS_GATEWAY_CONFIG = {
  // The scenarios are about faults, not budgets: no client should be throttled.
  ratelimit: {
    plans: {
      anonymous: { capacity: 1_000_000, restoreRate: 100_000 },
      free: { capacity: 1_000_000, restoreRate: 100_000 },
    },
  },
  // A short deadline where a hang is staged, as an operator would set for a subgraph that must answer
  // fast (yet not so short that a busy test machine trips it).
  pool: { overrides: { inventory: { timeoutMs: 3_000 } } },
} as const;

/** The private servers could not start here: a reason to skip the scenarios, not a failure of Tollgate. */
export class PrivateServersUnavailable extends Error {}

/**
 * Starts a private Redis, a private PostgreSQL (or embedded PGlite, see startPrivateDatabase), and the
 * stack on both. Throws PrivateServersUnavailable when the private servers cannot run here.
 */
export async function startChaosStack(log: (line: string) => void = console.log): Promise<ChaosStack> {
  const unavailable = privateRedisUnavailable();
  if (unavailable) throw new PrivateServersUnavailable(unavailable);
  const redis = await startPrivateRedis().catch((error: Error) => {
    throw new PrivateServersUnavailable(`private Redis: ${error.message}`);
  });
  let db: PrivateDatabase | undefined;
  let stack: Stack | undefined;
  const stateDir = join(ROOT, '.tollgate', `chaos-${process.pid}`);
  try {
    db = await startPrivateDatabase(log).catch((error: Error) => {
      throw new PrivateServersUnavailable(`private database: ${error.message}`);
    });
    log(`chaos: ${db.kind} database at ${db.url}, Redis at ${redis.url}`);
    stack = await startStack({
      port: 0,
      host: '127.0.0.1',
      databaseUrl: db.url,
      redisUrl: redis.url,
      stateDir,
      services: ['accounts', 'products', 'inventory', 'reviews'],
      gatewayConfig: CHAOS_GATEWAY_CONFIG,
      // a machine shared with other test runs can take long to start 8 replicas at once
      readyTimeoutMs: 180_000,
    });
    const key = await loadDevSigningKey(devKeysDir(stack.stateDir));
    const token = await signDevToken({ sub: WRITER_ID }, { issuer: DEV_ISSUER, audience: DEV_AUDIENCE, key });
    const running = stack;
    const database = db;
    return {
      stack: running,
      db: database,
      redis,
      token,
      allReplicasUp: (adminUrl = running.adminUrl, timeoutMs = 30_000) =>
        waitFor(
          'every replica up',
          async () => {
            const res = await fetch(`${adminUrl}/health/ready`);
            const body = (await res.json()) as { down?: string[] };
            return res.status === 200 && (body.down ?? []).length === 0;
          },
          timeoutMs,
        ),
      async stop() {
        await running.stop();
        rmSync(running.stateDir, { recursive: true, force: true });
        await database.stop();
        await redis.stop();
      },
    };
  } catch (error) {
    await stack?.stop();
    rmSync(stateDir, { recursive: true, force: true });
    await db?.stop();
    await redis.stop();
    throw error;
  }
}

/** The counters of one subgraph's replica pool in a gateway (`GET /admin/pool` of its admin listener). */
export async function poolCounters(adminUrl: string, subgraph: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${adminUrl}/admin/pool`);
  const view = (await res.json()) as { pools: { name: string; [key: string]: unknown }[] };
  const pool = view.pools.find((p) => p.name === subgraph);
  if (!pool) throw new Error(`no pool named ${subgraph} at ${adminUrl}`);
  const {
    requests,
    failed,
    retries,
    failovers,
    retriesDenied,
    ejections,
    hedges,
    hedgesWon,
    attemptTimeouts,
  } = pool;
  return {
    requests,
    failed,
    retries,
    failovers,
    retriesDenied,
    ejections,
    hedges,
    hedgesWon,
    attemptTimeouts,
  };
}
