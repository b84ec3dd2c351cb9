import { context } from '@opentelemetry/api';
import { RedisConnection, type RedisDeadline } from '@tollgate/kit/redis';
import type { Redis } from 'ioredis';
import type { RatePolicy } from './bucket.ts';
import { assertPoints, assertPolicy } from './bucket.ts';
import type { RateDecision, RateLimitStore } from './store.ts';
import { assertKey, RateLimitStoreError } from './store.ts';

/** Options of {@link createRedisStore}. */
export interface RedisStoreOptions {
  /** Connection URL, e.g. `redis://127.0.0.1:6379/0` (`rediss://` for TLS). */
  url: string;
  /**
   * Prefix of every bucket key. Under Redis Cluster each decision touches one key, so no hash tag is needed.
   * @default 'tollgate:rl:'
   */
  keyPrefix?: string;
  /**
   * Upper bound in ms for one take or refund, including any wait for a connection in progress. After it
   * the call rejects with `RATELIMIT_STORE_UNAVAILABLE`; the command is never sent late.
   * @default 50
   */
  timeoutMs?: number;
  /**
   * TCP connect timeout in ms.
   * @default 1000
   */
  connectTimeoutMs?: number;
  /**
   * A connection that sent a command and has heard nothing back for this many ms is dropped and re-dialled,
   * so a hung server (accepts, never answers) is detected. Much larger than `timeoutMs` on purpose: one slow
   * reply should fail one decision, not tear down the connection every other decision shares.
   * @default 1000
   */
  socketTimeoutMs?: number;
  /**
   * Test-only clock in ms passed to the scripts in place of Redis `TIME`. Leave unset in production: the
   * server's clock is what lets instances with skewed clocks share a budget. Keys still expire (PX) on
   * the server's clock, so test buckets must take longer to refill than the test takes to run.
   */
  now?: () => number;
}

// Both scripts mirror bucket.ts (`take`, `refund`, TAT_EPSILON_MS = 1e-3, the 1e-6 point slack); change
// them together. Lua numbers returned to Redis are truncated to integers, so every reply value is
// already floored/ceiled here, and -1 stands for an infinite retry (cost > capacity).
const TAKE_SCRIPT = `
-- KEYS[1] bucket key; ARGV: restore_rate (points/s), capacity (points), cost (points), [now_ms, tests only]
local now
if ARGV[4] then
  now = tonumber(ARGV[4])
else
  -- The server's clock, never the caller's: every gateway instance sharing this key must agree on time.
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
end
local interval = 1000 / tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local tolerance = interval * capacity
local stored = redis.call('GET', KEYS[1])
local tat = stored and tonumber(stored) or now
if tat < now then tat = now end
local function remaining_at(t)
  local r = math.floor((tolerance - (t - now)) / interval + 1e-6)
  if r < 0 then return 0 end
  return r
end
local function whole_ms(ms)
  local r = math.ceil(ms - 1e-3)
  if r < 0 then return 0 end
  return r
end
if cost > capacity then
  return {0, remaining_at(tat), -1, whole_ms(tat - now)}
end
local new_tat = tat + cost * interval
if new_tat - tolerance > now + 1e-3 then
  local retry = whole_ms(new_tat - tolerance - now)
  if retry < 1 then retry = 1 end
  return {0, remaining_at(tat), retry, whole_ms(tat - now)}
end
if new_tat > now then
  -- Explicit format: Lua 5.1 prints numbers with %.14g, which rounds a ms epoch to 0.1 ms. Rounding up to
  -- the µs means the stored TAT can only err towards denying, never towards admitting early.
  redis.call('SET', KEYS[1], string.format('%.3f', math.ceil(new_tat * 1000) / 1000), 'PX', math.ceil(new_tat - now))
end
return {1, remaining_at(new_tat), 0, whole_ms(new_tat - now)}
`;

const REFUND_SCRIPT = `
-- KEYS[1] bucket key; ARGV: restore_rate (points/s), amount (points), [now_ms, tests only]
local stored = redis.call('GET', KEYS[1])
if not stored then return 0 end
local now
if ARGV[3] then
  now = tonumber(ARGV[3])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
end
local tat = tonumber(stored) - tonumber(ARGV[2]) * 1000 / tonumber(ARGV[1])
if tat <= now then
  redis.call('DEL', KEYS[1])
  return 0
end
redis.call('SET', KEYS[1], string.format('%.3f', math.ceil(tat * 1000) / 1000), 'PX', math.ceil(tat - now))
return 1
`;

type ScriptCommand = (key: string, ...args: string[]) => Promise<unknown>;

// Commands added with defineCommand: EVALSHA with an automatic EVAL on NOSCRIPT, per connection.
interface LimiterClient extends Redis {
  tollgateTake: ScriptCommand;
  tollgateRefund: ScriptCommand;
}

/**
 * Creates a store whose budgets live in Redis, shared by every gateway instance. One atomic script per
 * decision, timed by the Redis server clock. The store owns its connection, because the settings that keep
 * it from queueing or replaying takes (below) are part of its correctness.
 */
export function createRedisStore(options: RedisStoreOptions): RateLimitStore {
  return new RedisStore(options);
}

class RedisStore implements RateLimitStore {
  #redis: RedisConnection;
  #client: LimiterClient;
  #keyPrefix: string;
  #timeoutMs: number;
  #now: (() => number) | undefined;
  #deadline: RedisDeadline;

  constructor(options: RedisStoreOptions) {
    if (typeof options?.url !== 'string' || options.url.length === 0) {
      throw new TypeError('ratelimit redis store needs a url');
    }
    this.#keyPrefix = options.keyPrefix ?? 'tollgate:rl:';
    this.#timeoutMs = positive(options.timeoutMs ?? 50, 'timeoutMs');
    this.#now = options.now;
    this.#redis = new RedisConnection({
      url: options.url,
      connectionName: 'tollgate-ratelimit',
      // Leave this intact, with the helper's no offline queue and no retries: a take queued while
      // disconnected, or replayed after a reconnect, would be charged after the request was already
      // answered from the fallback (or charged twice).
      resendAfterReconnect: false,
      socketTimeoutMs: positive(options.socketTimeoutMs ?? 1000, 'socketTimeoutMs'),
      connectTimeoutMs: positive(options.connectTimeoutMs ?? 1000, 'connectTimeoutMs'),
    });
    this.#client = this.#redis.client as LimiterClient;
    this.#client.defineCommand('tollgateTake', { numberOfKeys: 1, lua: TAKE_SCRIPT });
    this.#client.defineCommand('tollgateRefund', { numberOfKeys: 1, lua: REFUND_SCRIPT });
    // The limiter's failure rule: never charge late. A take or refund that missed its deadline is never
    // sent (the caller has moved on to the fallback or a 503: sending now would charge a budget nobody
    // answered for), and the deadline fails at once, with no grace turn: a decision must not wait.
    // Every failure is a RateLimitStoreError (RATELIMIT_STORE_UNAVAILABLE) for the resilient store.
    this.#deadline = {
      timeoutMs: this.#timeoutMs,
      graceTurn: false,
      fail: (failure, what) => {
        switch (failure.kind) {
          case 'deadline':
            return new RateLimitStoreError(
              `ratelimit ${what}: Redis did not answer within ${this.#timeoutMs} ms`,
              { cause: failure.lastError },
            );
          case 'abandoned':
            return new RateLimitStoreError(`ratelimit ${what} abandoned after its deadline`);
          case 'down':
            return new RateLimitStoreError(`Redis unavailable (connection ${failure.status})`, {
              cause: failure.lastError,
            });
          case 'lost':
            return new RateLimitStoreError('Redis connection closed before it was ready', {
              cause: failure.lastError,
            });
          case 'command': {
            const err = failure.error;
            if (err instanceof RateLimitStoreError) return err;
            const message = err instanceof Error ? err.message : String(err);
            return new RateLimitStoreError(`ratelimit ${what}: ${message}`, { cause: err });
          }
        }
      },
    };
  }

  async take(key: string, cost: number, policy: RatePolicy): Promise<RateDecision> {
    assertKey(key);
    assertPolicy(policy);
    assertPoints(cost, 'cost');
    const args = [String(policy.restoreRate), String(policy.capacity), String(cost), ...this.#clockArg()];
    const reply = await this.#run('take', () => this.#client.tollgateTake(this.#keyPrefix + key, ...args));
    if (!isTakeReply(reply)) {
      throw new RateLimitStoreError(`unexpected reply from the ratelimit take script: ${String(reply)}`);
    }
    const [allowed, remaining, retryAfterMs, resetAfterMs] = reply;
    return {
      allowed: allowed === 1,
      remaining,
      retryAfterMs: retryAfterMs < 0 ? Number.POSITIVE_INFINITY : retryAfterMs,
      resetAfterMs,
      limit: policy.capacity,
      source: 'redis',
    };
  }

  async refund(key: string, amount: number, policy: RatePolicy): Promise<void> {
    assertKey(key);
    assertPolicy(policy);
    assertPoints(amount, 'amount');
    if (amount === 0) return;
    const args = [String(policy.restoreRate), String(amount), ...this.#clockArg()];
    await this.#run('refund', () => this.#client.tollgateRefund(this.#keyPrefix + key, ...args));
  }

  close(): Promise<void> {
    // QUIT lets in-flight decisions finish.
    return this.#redis.close(Math.max(this.#timeoutMs, 100));
  }

  #clockArg(): string[] {
    return this.#now ? [String(this.#now())] : [];
  }

  #run<T>(what: string, op: () => Promise<T>): Promise<T> {
    if (this.#redis.closed) return Promise.reject(new RateLimitStoreError('ratelimit redis store is closed'));
    // The command is sent after an await, where the gateway's synchronous context manager no longer holds
    // the caller's span: send it in the context it was asked in, so its span hangs under the decision.
    return this.#redis.run(what, context.bind(context.active(), op), this.#deadline);
  }
}

function isTakeReply(reply: unknown): reply is [number, number, number, number] {
  return Array.isArray(reply) && reply.length === 4 && reply.every((n) => typeof n === 'number');
}

function positive(value: number, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`ratelimit redis store ${name} must be a positive number of ms, got ${value}`);
  }
  return value;
}
