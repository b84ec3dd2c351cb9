import type { GatewayConfig } from '../config/index.ts';
import {
  createMemoryStore,
  createRedisStore,
  createResilientStore,
  type RateLimitStore,
} from '../ratelimit/index.ts';
import type { Logger } from './types.ts';

/**
 * The rate limiter's store: Redis behind the resilient wrapper (its failure policy from
 * `ratelimit.failureMode`) when `redis.url` is set, else one in memory per process.
 */
export function createRateLimitStore(
  config: Pick<GatewayConfig, 'redis' | 'ratelimit'>,
  logger: Logger,
): RateLimitStore {
  const { ratelimit } = config;
  if (!config.redis.url) return createMemoryStore();
  return createResilientStore({
    primary: createRedisStore({
      url: config.redis.url,
      timeoutMs: ratelimit.redisTimeoutMs,
      keyPrefix: ratelimit.keyPrefix,
    }),
    failureMode: ratelimit.failureMode,
    fallbackShare: ratelimit.fallbackShare,
    timeoutMs: ratelimit.redisTimeoutMs,
    onError: (error) =>
      logger.error('rate limiter store failing; using the fallback policy', {
        error: error.message,
        failureMode: ratelimit.failureMode,
      }),
  });
}
