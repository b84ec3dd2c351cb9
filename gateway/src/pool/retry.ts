/** How one attempt failed, as the retry rules see it. */
export type FailureKind = 'connect' | 'reset' | 'timeout' | 'aborted' | 'other';

export interface RetryOptions {
  /** Attempts per subgraph fetch, the first included; each goes to a different replica. @default 3 */
  maxAttempts?: number;
  /** Backoff base: retry n waits a random time in [0, (2^n − 1) × base). @default 25 */
  backoffBaseMs?: number;
  /** Cap on one backoff wait. @default 250 */
  backoffMaxMs?: number;
  /** Retries in flight may be at most this share of the requests in flight... @default 20 */
  budgetPercent?: number;
  /** ...but this many are always allowed, so a quiet pool can still retry. @default 10 */
  minRetryConcurrency?: number;
  /** Response statuses an idempotent fetch is retried on. @default [500, 502, 503, 504] */
  onStatus?: readonly number[];
}

/** The retry rules' defaults when none are given. */
export const RETRY_DEFAULTS = {
  maxAttempts: 3,
  backoffBaseMs: 25,
  backoffMaxMs: 250,
  budgetPercent: 20,
  minRetryConcurrency: 10,
  onStatus: [500, 502, 503, 504],
} as const;

// Raised before any byte of the request left: safe to send elsewhere, even a mutation. Leave this intact:
// adding a code here that can happen after the request was written would replay mutations (T-F1).
const CONNECT_ERRORS = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);
// The connection broke after the request may have been written (kill -9, a proxy reset, a keep-alive race).
const RESET_ERRORS = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

/** The first string `code` on an error or its causes (undici wraps socket errors). */
export function errorCode(error: unknown): string | undefined {
  let e: unknown = error;
  for (let i = 0; i < 4 && e; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Sorts a transport error; timeouts and caller aborts are told apart by the pool, which owns the timers. */
export function classifyError(error: unknown): FailureKind {
  const code = errorCode(error);
  if (code && CONNECT_ERRORS.has(code)) return 'connect';
  if (code && RESET_ERRORS.has(code)) return 'reset';
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return 'timeout';
  return 'other';
}

/**
 * Whether an attempt that failed this way may go to another replica. A connect error always may: nothing
 * was sent. Anything else only for an idempotent fetch (a query), and only for resets, timeouts and the
 * configured statuses; a mutation that reached a replica is never sent again.
 */
export function mayRetry(
  failure: { kind: FailureKind } | { status: number },
  idempotent: boolean,
  onStatus: readonly number[],
): boolean {
  if ('kind' in failure) {
    if (failure.kind === 'connect') return true;
    return idempotent && (failure.kind === 'reset' || failure.kind === 'timeout');
  }
  return idempotent && onStatus.includes(failure.status);
}

/**
 * Fully jittered exponential backoff (Envoy `backoff.proto`, AWS "full jitter"): retry n (1-based) waits
 * a uniform random time in [0, min(max, (2^n − 1) × base)).
 */
export function backoffMs(
  retry: number,
  options: { baseMs: number; maxMs: number },
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(options.maxMs, (2 ** Math.max(retry, 1) - 1) * options.baseMs);
  return random() * ceiling;
}

/**
 * Envoy's retry budget (`circuit_breaker.proto` `retry_budget`): retries in flight may be at most
 * `budgetPercent` of the requests in flight, with `minRetryConcurrency` always allowed. When a replica
 * set degrades, this keeps retries from multiplying the load on the replicas that are left.
 */
export class RetryBudget {
  readonly #percent: number;
  readonly #min: number;
  #active = 0;
  #retries = 0;

  constructor(options: { budgetPercent?: number; minRetryConcurrency?: number } = {}) {
    this.#percent = options.budgetPercent ?? RETRY_DEFAULTS.budgetPercent;
    this.#min = options.minRetryConcurrency ?? RETRY_DEFAULTS.minRetryConcurrency;
  }

  /** Requests (subgraph fetches) in flight. */
  get active(): number {
    return this.#active;
  }

  /** Retries in flight. */
  get retries(): number {
    return this.#retries;
  }

  /** Retries allowed in flight right now. */
  get limit(): number {
    return Math.max(this.#min, Math.floor((this.#active * this.#percent) / 100));
  }

  requestStarted(): void {
    this.#active++;
  }

  requestFinished(): void {
    this.#active = Math.max(0, this.#active - 1);
  }

  /** Takes a retry slot if the budget has one; call `release` when that retry attempt ends. */
  tryAcquire(): boolean {
    if (this.#retries >= this.limit) return false;
    this.#retries++;
    return true;
  }

  release(): void {
    this.#retries = Math.max(0, this.#retries - 1);
  }
}
