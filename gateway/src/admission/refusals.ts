/** HTTP statuses that refuse a request (counted in /metrics by status and reason). */
export const REFUSAL_STATUSES: ReadonlySet<number> = new Set([401, 408, 413, 429, 431, 503]);

/**
 * Why a 503 was answered, as the gateway itself decides it: `admission` (the concurrency limit and its
 * queue were full), `queue_timeout` (waited the queue's deadline), `connections` (over
 * server.maxConnections), `event_loop` (server.maxEventLoopLagMs), `shutdown` (answered while closing),
 * `no_replica` (SUBGRAPH_UNAVAILABLE: nothing could be fetched), `limiter_unavailable` (rate-limit
 * store down, failureMode closed).
 */
export type RefusalReason =
  | 'admission'
  | 'queue_timeout'
  | 'connections'
  | 'event_loop'
  | 'shutdown'
  | 'no_replica'
  | 'limiter_unavailable'
  | (string & {});

/** One counted series. */
export interface RefusalCount {
  status: number;
  reason: string;
  count: number;
}

// A reason comes from the gateway's own codes; this bound keeps a bug from growing the series unbounded.
const MAX_SERIES = 64;

/** Refusals counted by status and reason. */
export class RefusalCounter {
  readonly #counts = new Map<string, RefusalCount>();

  count(status: number, reason: string): void {
    const key = `${status} ${reason}`;
    let entry = this.#counts.get(key);
    if (!entry) {
      if (this.#counts.size >= MAX_SERIES) {
        if (reason !== 'other') this.count(status, 'other');
        return;
      }
      entry = { status, reason, count: 0 };
      this.#counts.set(key, entry);
    }
    entry.count++;
  }

  /** Every series so far (copies). */
  snapshot(): RefusalCount[] {
    return [...this.#counts.values()].map((c) => ({ ...c }));
  }
}

/**
 * The reason of a refusal nobody tagged, from its status, the first error's `extensions.code` (when the
 * body is a GraphQL response) and whether the gateway is closing.
 */
export function refusalReason(status: number, code: string | undefined, closing: boolean): string {
  switch (status) {
    case 401:
      return 'unauthenticated';
    case 408:
      return 'request_timeout';
    case 413:
      return 'body_size';
    case 431:
      return 'header_size';
    case 503:
      if (code === 'SUBGRAPH_UNAVAILABLE') return 'no_replica';
      if (code === 'RATE_LIMITED') return 'limiter_unavailable';
      if (closing) return 'shutdown';
      return code === 'OVERLOADED' ? 'admission' : 'other';
    default:
      if (status === 429 && code === 'RATE_LIMITED') return 'rate_limit';
      return code && /^[A-Z][A-Z0-9_]{0,47}$/.test(code) ? code.toLowerCase() : 'other';
  }
}

/** The first error's `extensions.code` of a GraphQL response body, if it is one. Never throws. */
export function firstErrorCode(body: string): string | undefined {
  if (body.length > 65_536) return undefined;
  try {
    const parsed = JSON.parse(body) as { errors?: { extensions?: { code?: unknown } }[] } | null;
    const code = parsed?.errors?.[0]?.extensions?.code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}
