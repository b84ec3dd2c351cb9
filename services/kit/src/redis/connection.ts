import { Redis } from 'ioredis';

export interface RedisConnectionOptions {
  /** e.g. `redis://127.0.0.1:6379/0` (`rediss://` for TLS). */
  url: string;
  /** `CLIENT SETNAME`, so `CLIENT LIST` shows which store a connection belongs to. */
  connectionName: string;
  /** TCP connect timeout in ms. */
  connectTimeoutMs: number;
  /**
   * A connection that sent a command and has heard nothing back for this many ms is dropped and re-dialled,
   * so a hung server (accepts, never answers) is detected; that also fails whatever it still had queued.
   */
  socketTimeoutMs: number;
  /**
   * Whether ioredis sends again, after a reconnect, the commands it had sent and heard nothing back for.
   * Only a store whose commands are harmless when applied late or twice may say yes.
   */
  resendAfterReconnect: boolean;
}

/**
 * Why one call failed, for the store to turn into its own error (the store's failure rule):
 * - `down`: ioredis knows Redis is unreachable (reconnecting, or closed), so the call failed at once;
 * - `lost`: the connection in progress closed before it was ready;
 * - `deadline`: no answer within the call's `timeoutMs`;
 * - `abandoned`: the connection became ready after the deadline, and the command was not sent;
 * - `command`: Redis (or the op) answered with an error.
 *
 * `lastError` is the connection's latest error event, the likely cause.
 */
export type RedisFailure =
  | { readonly kind: 'down'; readonly status: string; readonly lastError: unknown }
  | { readonly kind: 'lost'; readonly lastError: unknown }
  | { readonly kind: 'deadline'; readonly lastError: unknown }
  | { readonly kind: 'abandoned' }
  | { readonly kind: 'command'; readonly error: unknown };

/** How a store bounds its calls and what its failures become. */
export interface RedisDeadline {
  /** Upper bound in ms of one call, including any wait for a connection in progress. */
  timeoutMs: number;
  /**
   * After the deadline, give the reply one more event-loop turn before failing the call. Timers run before
   * I/O in each loop turn, so on a busy loop the reply may already be waiting on the socket.
   */
  graceTurn: boolean;
  /** The store's error for a failed call of kind `what` ('get', 'take', …). Called once per failure. */
  fail(failure: RedisFailure, what: string): Error;
}

class Failed extends Error {
  constructor(readonly failure: RedisFailure) {
    super(failure.kind);
  }
}

/**
 * One Redis connection as the stores use it: commands are never queued while Redis is away nor retried
 * per request (a store falls back instead of waiting), a lost connection is re-dialled for ever, and
 * `run` bounds each call with one deadline that covers the wait for a connection in progress too.
 * A command whose deadline passed before the connection was ready is never sent: whoever asked has
 * moved on. What a failure means (fall back, refuse, skip) stays with each store.
 */
export class RedisConnection {
  readonly client: Redis;
  #lastError: unknown;
  #readyWait: Promise<void> | undefined;
  #closed = false;

  constructor(options: RedisConnectionOptions) {
    this.client = new Redis(options.url, {
      // Leave the next two intact: a command queued while Redis is away, or retried, would hold a request
      // up past its deadline, and be applied after its caller had already fallen back.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: options.resendAfterReconnect,
      socketTimeout: options.socketTimeoutMs,
      connectTimeout: options.connectTimeoutMs,
      // Reconnect for ever but notice a recovered Redis within about a second.
      retryStrategy: (times) => Math.min(times * 50, 1000),
      connectionName: options.connectionName,
    });
    // Without a listener ioredis prints every connection error; each store reports its failures instead.
    this.client.on('error', (err: unknown) => {
      this.#lastError = err;
    });
  }

  /** True once `close` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Runs `op` once the connection is ready, within `deadline.timeoutMs`; rejects with `deadline.fail(…)`. */
  async run<T>(what: string, op: () => Promise<T>, deadline: RedisDeadline): Promise<T> {
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    let immediate: NodeJS.Immediate | undefined;
    const attempt = this.#whenReady().then(() => {
      // Leave this intact: the caller has moved on, and a command sent now lands after its answer.
      if (timedOut) throw new Failed({ kind: 'abandoned' });
      return op();
    });
    // The loser of the race below must not surface as an unhandled rejection.
    attempt.catch(() => undefined);
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        const fail = () => reject(new Failed({ kind: 'deadline', lastError: this.#lastError }));
        if (deadline.graceTurn) immediate = setImmediate(fail);
        else fail();
      }, deadline.timeoutMs);
    });
    try {
      return await Promise.race([attempt, late]);
    } catch (err) {
      throw deadline.fail(err instanceof Failed ? err.failure : { kind: 'command', error: err }, what);
    } finally {
      clearTimeout(timer);
      clearImmediate(immediate);
    }
  }

  /**
   * Closes the connection: QUIT when ready, so commands already sent finish, bounded by `graceMs`
   * because a hung server would never answer it; then disconnect. Idempotent.
   */
  async close(graceMs: number): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const client = this.client;
    if (client.status === 'ready') {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        client.quit().catch(() => undefined),
        new Promise((resolve) => {
          timer = setTimeout(resolve, graceMs);
        }),
      ]);
      clearTimeout(timer);
    }
    client.disconnect();
  }

  // Fails fast while ioredis knows Redis is down (reconnecting); waits only for a connection in progress.
  #whenReady(): Promise<void> {
    const client = this.client;
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
          const onClose = () => settle(new Failed({ kind: 'lost', lastError: this.#lastError }));
          client.on('ready', onReady);
          client.on('close', onClose);
          client.on('end', onClose);
        });
        return this.#readyWait;
      default:
        return Promise.reject(
          new Failed({ kind: 'down', status: client.status, lastError: this.#lastError }),
        );
    }
  }
}
