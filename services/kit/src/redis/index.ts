// One Redis connection with readiness and a per-call deadline (also `@tollgate/kit/redis`), which the
// gateway's rate limiter and persisted queries and the kit's cache each configure with their failure rule.
export {
  RedisConnection,
  type RedisConnectionOptions,
  type RedisDeadline,
  type RedisFailure,
} from './connection.ts';
