import { type Cache, type CacheOptions, createCache } from '../cache/index.ts';
import { createDb } from '../db/index.ts';
import type { LoaderDefinitions } from '../loaders/index.ts';
import { createPubSub, type PubSubOptions } from '../pubsub/index.ts';
import { assertSigningSecret } from '../signing/index.ts';
import {
  startTelemetry,
  type Telemetry,
  type TelemetryEnv,
  TelemetrySettingError,
} from '../telemetry/index.ts';
import type { Subgraph, SubgraphOptions } from './create-subgraph.ts';

/** What a service's own `createSubgraph` takes: the kit's options minus the loaders it brings itself. */
export type SubgraphDeps = Omit<SubgraphOptions<LoaderDefinitions>, 'loaders'>;

export interface RunnableService {
  definition: { name: string };
  createSubgraph(opts: SubgraphDeps): Subgraph;
}

/**
 * The environment a subgraph process reads; everything else comes from the launcher. Tracing follows the
 * standard OTEL_* variables (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER, …).
 */
export interface SubgraphEnv extends TelemetryEnv {
  /** Required. */
  DATABASE_URL?: string;
  /** @default 0 */
  PORT?: string;
  /** @default '127.0.0.1' */
  HOST?: string;
  /** @default 4 */
  DB_POOL_MAX?: string;
  /**
   * Redis for the loader cache every replica shares (`redis://HOST:PORT/DB`), and for the pub/sub behind
   * subscriptions (without it that runs on the database: LISTEN/NOTIFY, or a polled outbox table on the
   * embedded server).
   */
  REDIS_URL?: string;
  /**
   * The loader cache: `redis` (needs `REDIS_URL`), `memory` (an LRU in this process) or `off` (batching
   * within a request only). Without Redis it is off unless asked for: a process cannot know it is the
   * service's only replica, and another replica's writes never reach this process's memory, so its
   * entries would be read stale until their TTL. Set `memory` for a single replica.
   * @default 'redis' when REDIS_URL is set, otherwise 'off'
   */
  SUBGRAPH_CACHE?: string;
  /**
   * First segment of every cache key and pub/sub channel. Give each environment (and each throwaway
   * stack) sharing one Redis its own, or their entries and events mix.
   * @default 'tollgate'
   */
  SUBGRAPH_CACHE_PREFIX?: string;
  /**
   * The secret the gateway signs subgraph requests with (at least 32 characters). Set, the replica
   * serves only signed requests (401/403 otherwise); unset, it serves anyone and says so at startup.
   */
  TOLLGATE_SIGNING_SECRET?: string;
  /** Set by the launcher (`npm start`) to its pid: the replica stops when that process is gone. */
  TOLLGATE_PARENT_PID?: string;
}

interface Config {
  url: string;
  port: number;
  host: string;
  poolMax: number;
  /** `undefined`: no shared cache. */
  cache: CacheOptions | undefined;
  signingSecret: string | undefined;
  pubsub: PubSubOptions;
}

/**
 * The body of every `services/<name>/src/main.ts`: read env, connect, listen, print one JSON ready
 * line on stdout for the launcher, and close server then pool on SIGTERM/SIGINT. It neither
 * migrates nor seeds; the launcher does that once for all replicas.
 */
export async function runSubgraph(service: RunnableService, env: SubgraphEnv = process.env): Promise<void> {
  const name = service.definition.name;
  let config: Config;
  try {
    config = readEnv(env);
  } catch (err) {
    console.error(`${name}: ${(err as Error).message}`);
    process.exit(1);
  }
  // First: the pg, ioredis and http instrumentations must be in place before the pool and server exist.
  let telemetry: Telemetry;
  try {
    telemetry = await startTelemetry(name, env);
  } catch (err) {
    if (!(err instanceof TelemetrySettingError)) throw err;
    console.error(`${name}: ${err.message}`);
    process.exit(1);
  }
  const db = createDb(config.url, { max: config.poolMax });
  const cache: Cache | undefined = config.cache && createCache(config.cache);
  const pubsub = createPubSub(config.pubsub);
  const signing = config.signingSecret === undefined ? undefined : { secret: config.signingSecret };
  const subgraph = service.createSubgraph({ db, cache: cache ?? false, signing, pubsub });
  let url: string;
  try {
    // A service whose createSubgraph drops the option would serve unsigned requests: refuse to start.
    if (signing && !subgraph.verifiesSignatures)
      throw new Error('TOLLGATE_SIGNING_SECRET is set but the subgraph does not verify signatures');
    // Fail before the ready line if the database is unreachable, so "ready" means ready.
    await db.query('SELECT 1');
    url = await subgraph.listen({ port: config.port, host: config.host });
  } catch (err) {
    console.error(`${name}: failed to start: ${(err as Error).message}`);
    await Promise.allSettled([subgraph.close(), cache?.close(), pubsub.close(), db.close()]);
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
      await pubsub.close();
      await cache?.close();
      await db.close();
      await telemetry.shutdown();
      process.exit(0);
    } catch (err) {
      console.error(`${name}: error while stopping on ${signal}: ${(err as Error).message}`);
      process.exit(1);
    }
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // Started by the launcher (`npm start`)? Then stop when it is gone, even if it was SIGKILLed.
  const launcher = Number(env.TOLLGATE_PARENT_PID);
  if (launcher) {
    setInterval(() => {
      if (!stopping && process.ppid !== launcher) void stop('SIGTERM');
    }, 1_000).unref();
  }

  process.stdout.write(`${JSON.stringify({ ready: true, service: name, url })}\n`);
}

function readEnv(env: SubgraphEnv): Config {
  const url = env.DATABASE_URL?.trim();
  if (!url) throw new Error('DATABASE_URL is required (e.g. postgres://postgres@127.0.0.1:5432/postgres)');
  return {
    url,
    port: integer('PORT', env.PORT, 0, 0, 65_535),
    host: env.HOST?.trim() || '127.0.0.1',
    poolMax: integer('DB_POOL_MAX', env.DB_POOL_MAX, 4, 1, 100),
    cache: cacheOptionsFromEnv(env),
    signingSecret: readSigningSecret(env),
    pubsub: pubsubOptionsFromEnv(env, url),
  };
}

function readSigningSecret(env: SubgraphEnv): string | undefined {
  const secret = env.TOLLGATE_SIGNING_SECRET;
  if (secret === undefined || secret === '') return undefined;
  // Never echo the value: this line goes to logs (assertSigningSecret names only the variable).
  assertSigningSecret(secret, 'TOLLGATE_SIGNING_SECRET');
  return secret;
}

/** The loader cache `REDIS_URL`, `SUBGRAPH_CACHE` and `SUBGRAPH_CACHE_PREFIX` ask for; throws on bad values. */
export function cacheOptionsFromEnv(env: SubgraphEnv): CacheOptions | undefined {
  const redisUrl = env.REDIS_URL?.trim();
  const mode = env.SUBGRAPH_CACHE?.trim() || (redisUrl ? 'redis' : 'off');
  const keyPrefix = env.SUBGRAPH_CACHE_PREFIX?.trim() || 'tollgate';
  if (mode === 'off') return undefined;
  if (mode === 'memory') return { keyPrefix };
  if (mode !== 'redis') {
    throw new Error(
      `SUBGRAPH_CACHE: expected redis, memory or off, got ${JSON.stringify(env.SUBGRAPH_CACHE)}`,
    );
  }
  if (!redisUrl) throw new Error('SUBGRAPH_CACHE=redis needs REDIS_URL');
  if (!/^rediss?:\/\//.test(redisUrl)) {
    throw new Error(`REDIS_URL: expected redis://… or rediss://…, got ${JSON.stringify(redisUrl)}`);
  }
  return { redisUrl, keyPrefix };
}

/**
 * The pub/sub `REDIS_URL` asks for (channels under `SUBGRAPH_CACHE_PREFIX`), else one on the database,
 * where `auto` finds out at start whether LISTEN/NOTIFY crosses connections (it does not on the embedded
 * server) and falls back to the polled outbox.
 */
export function pubsubOptionsFromEnv(env: SubgraphEnv, databaseUrl: string): PubSubOptions {
  const redisUrl = env.REDIS_URL?.trim();
  if (redisUrl) return { redisUrl, keyPrefix: env.SUBGRAPH_CACHE_PREFIX?.trim() || 'tollgate' };
  return { databaseUrl, postgresMode: 'auto' };
}

function integer(key: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(`${key}: expected an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}
