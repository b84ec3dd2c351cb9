import { context } from '@opentelemetry/api';
import { Redis } from 'ioredis';
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
  #client: LimiterClient;
  #keyPrefix: string;
  #timeoutMs: number;
  #now: (() => number) | undefined;
  #closed = false;
  #lastError: unknown;
  #readyWait: Promise<void> | undefined;

  constructor(options: RedisStoreOptions) {
    if (typeof options?.url !== 'string' || options.url.length === 0) {
      throw new TypeError('ratelimit redis store needs a url');
    }
    this.#keyPrefix = options.keyPrefix ?? 'tollgate:rl:';
    this.#timeoutMs = positive(options.timeoutMs ?? 50, 'timeoutMs');
    this.#now = options.now;
    this.#client = new Redis(options.url, {
      // Leave the next three intact. A take queued while disconnected, or replayed after a reconnect, would
      // be charged after the request was already answered from the fallback (or charged twice).
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      socketTimeout: positive(options.socketTimeoutMs ?? 1000, 'socketTimeoutMs'),
      connectTimeout: positive(options.connectTimeoutMs ?? 1000, 'connectTimeoutMs'),
      // Reconnect for ever but notice a recovered Redis within about a second.
      retryStrategy: (times) => Math.min(times * 50, 1000),
      connectionName: 'tollgate-ratelimit',
    }) as LimiterClient;
    // Without a listener ioredis prints every connection error; the resilient store reports them instead.
    this.#client.on('error', (err: unknown) => {
      this.#lastError = err;
    });
    this.#client.defineCommand('tollgateTake', { numberOfKeys: 1, lua: TAKE_SCRIPT });
    this.#client.defineCommand('tollgateRefund', { numberOfKeys: 1, lua: REFUND_SCRIPT });
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

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const client = this.#client;
    if (client.status === 'ready') {
      // QUIT lets in-flight decisions finish; bounded, because a hung server would never answer it.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        client.quit().catch(() => undefined),
        new Promise((resolve) => {
          timer = setTimeout(resolve, Math.max(this.#timeoutMs, 100));
        }),
      ]);
      clearTimeout(timer);
    }
    client.disconnect();
  }

  #clockArg(): string[] {
    return this.#now ? [String(this.#now())] : [];
  }

  // One deadline covers waiting for a connection in progress plus the round trip.
  async #run<T>(what: string, op: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new RateLimitStoreError('ratelimit redis store is closed');
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    // The command is sent after an await, where the gateway's synchronous context manager no longer holds
    // the caller's span: send it in the context it was asked in, so its span hangs under the decision.
    const send = context.bind(context.active(), op);
    const attempt = this.#whenReady().then(() => {
      // The caller has moved on (fallback or 503): sending now would charge a budget nobody answered for.
      if (timedOut) throw new RateLimitStoreError(`ratelimit ${what} abandoned after its deadline`);
      return send();
    });
    // The loser of the race below must not surface as an unhandled rejection.
    attempt.catch(() => undefined);
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        reject(
          new RateLimitStoreError(`ratelimit ${what}: Redis did not answer within ${this.#timeoutMs} ms`, {
            cause: this.#lastError,
          }),
        );
      }, this.#timeoutMs);
    });
    try {
      return await Promise.race([attempt, deadline]);
    } catch (err) {
      if (err instanceof RateLimitStoreError) throw err;
      const message = err instanceof Error ? err.message : String(err);
      throw new RateLimitStoreError(`ratelimit ${what}: ${message}`, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  // Fails fast while ioredis knows Redis is down (reconnecting); waits only for a connection in progress.
  #whenReady(): Promise<void> {
    const client = this.#client;
    switch (client.status) {
      case 'ready':
        return Promise.resolve();
      case 'wait':
      case 'connecting':
      case 'connect':
        this.#readyWait ??= new Promise<void>((resolve, reject) => {
          const settle = (err?: Error) => {
            client.off('ready', onReady);
            client.off('close', onClose);
            client.off('end', onClose);
            this.#readyWait = undefined;
            if (err) reject(err);
            else resolve();
          };
          const onReady = () => settle();
          const onClose = () =>
            settle(
              new RateLimitStoreError('Redis connection closed before it was ready', {
                cause: this.#lastError,
              }),
            );
          client.on('ready', onReady);
          client.on('close', onClose);
          client.on('end', onClose);
        });
        return this.#readyWait;
      default:
        return Promise.reject(
          new RateLimitStoreError(`Redis unavailable (connection ${client.status})`, {
            cause: this.#lastError,
          }),
        );
    }
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
