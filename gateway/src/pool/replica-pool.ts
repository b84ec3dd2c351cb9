import { Pool } from 'undici';
import { PoolError } from './errors.ts';

export interface ReplicaPoolOptions {
  /** Timeout of one subgraph fetch (headers and body each). @default 30000 */
  timeoutMs?: number;
  /** Keep-alive connections kept per replica. @default 64 */
  connectionsPerReplica?: number;
  /** Idle time before a keep-alive connection is closed. @default 30000 */
  keepAliveTimeoutMs?: number;
}

export interface ReplicaStats {
  url: string;
  /** Requests sent to this replica (attempts, including ones that failed). */
  requests: number;
  /** Attempts that failed at the transport level or timed out. */
  errors: number;
  inflight: number;
  /** Result of the last probe or request: true answering, false failing, null not known yet. */
  up: boolean | null;
  lastError: string | null;
}

export interface SendResult {
  status: number;
  contentType: string;
  body: string;
  replica: string;
}

export interface SendOptions {
  /** False for a mutation: it may move to another replica only if the connection failed before sending. */
  idempotent: boolean;
  signal?: AbortSignal;
}

// Errors raised before any byte of the request left: safe to send elsewhere, even for a mutation.
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);

class Replica {
  readonly url: string;
  readonly path: string;
  readonly dispatcher: Pool;
  requests = 0;
  errors = 0;
  inflight = 0;
  up: boolean | null = null;
  lastError: string | null = null;
  constructor(url: string, options: Required<ReplicaPoolOptions>) {
    const parsed = new URL(url);
    this.url = url;
    this.path = `${parsed.pathname}${parsed.search}`;
    this.dispatcher = new Pool(parsed.origin, {
      connections: options.connectionsPerReplica,
      keepAliveTimeout: options.keepAliveTimeoutMs,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connect: { timeout: Math.min(options.timeoutMs, 5_000) },
    });
  }
  stats(): ReplicaStats {
    const { url, requests, errors, inflight, up, lastError } = this;
    return { url, requests, errors, inflight, up, lastError };
  }
}

function errorCode(error: unknown): string | undefined {
  let e: unknown = error;
  for (let i = 0; i < 3 && e; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * The replicas of one subgraph, each with its own keep-alive connection pool, picked round robin among
 * those answering. This is the seam the full pool (strategies, outlier ejection, retries) fills: the data
 * source only calls `send`.
 */
export class ReplicaPool {
  readonly name: string;
  #replicas: Replica[] = [];
  #next = 0;
  #closed = false;
  #options: Required<ReplicaPoolOptions>;

  constructor(name: string, urls: readonly string[], options: ReplicaPoolOptions = {}) {
    this.name = name;
    this.#options = {
      timeoutMs: options.timeoutMs ?? 30_000,
      connectionsPerReplica: options.connectionsPerReplica ?? 64,
      keepAliveTimeoutMs: options.keepAliveTimeoutMs ?? 30_000,
    };
    for (const url of urls) this.addReplica(url);
  }

  get replicas(): readonly string[] {
    return this.#replicas.map((r) => r.url);
  }

  addReplica(url: string): void {
    if (this.#replicas.some((r) => r.url === url)) return;
    this.#replicas.push(new Replica(url, this.#options));
  }

  /** Removes a replica from rotation; requests already sent to it finish first. */
  async removeReplica(url: string): Promise<void> {
    const replica = this.#replicas.find((r) => r.url === url);
    if (!replica) return;
    this.#replicas = this.#replicas.filter((r) => r !== replica);
    await replica.dispatcher.close();
  }

  stats(): ReplicaStats[] {
    return this.#replicas.map((r) => r.stats());
  }

  /** Round robin over replicas not known to be down; when all are down, over all of them (fail open). */
  #pick(tried: ReadonlySet<Replica>): Replica | undefined {
    const candidates = this.#replicas.filter((r) => !tried.has(r));
    if (!candidates.length) return undefined;
    const alive = candidates.filter((r) => r.up !== false);
    const from = alive.length ? alive : candidates;
    return from[this.#next++ % from.length];
  }

  /** POSTs a GraphQL body to one replica, moving on to another only when nothing was sent. */
  async send(body: string, headers: Record<string, string>, options: SendOptions): Promise<SendResult> {
    if (this.#closed) throw new PoolError('POOL_CLOSED', `pool ${this.name} is closed`);
    const tried = new Set<Replica>();
    let last: unknown;
    for (;;) {
      const replica = this.#pick(tried);
      if (!replica) {
        const reason = last instanceof Error ? `: ${last.message}` : '';
        throw new PoolError('POOL_NO_HEALTHY_REPLICA', `no replica of ${this.name} could be reached${reason}`, { cause: last });
      }
      tried.add(replica);
      replica.requests++;
      replica.inflight++;
      try {
        const res = await replica.dispatcher.request({
          path: replica.path,
          method: 'POST',
          headers,
          body,
          signal: options.signal,
        });
        const text = await res.body.text();
        replica.up = res.statusCode < 500;
        const contentType = res.headers['content-type'];
        return {
          status: res.statusCode,
          contentType: Array.isArray(contentType) ? (contentType[0] ?? '') : (contentType ?? ''),
          body: text,
          replica: replica.url,
        };
      } catch (error) {
        replica.errors++;
        replica.lastError = error instanceof Error ? error.message : String(error);
        const code = errorCode(error);
        if (code && CONNECT_ERRORS.has(code)) {
          replica.up = false;
          last = error;
          continue; // nothing reached the replica: another one may take it
        }
        if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
          throw new PoolError('POOL_TIMEOUT', `${this.name} did not answer within ${this.#options.timeoutMs} ms`, { replica: replica.url, cause: error });
        }
        throw new PoolError('POOL_UPSTREAM_ERROR', `${this.name} request failed: ${replica.lastError}`, { replica: replica.url, cause: error });
      } finally {
        replica.inflight--;
      }
    }
  }

  /** One active probe of every replica (`{ __typename }`, as Apollo's health check does); updates `up`. */
  async probe(timeoutMs: number): Promise<ReplicaStats[]> {
    await Promise.all(
      this.#replicas.map(async (replica) => {
        try {
          const res = await replica.dispatcher.request({
            path: replica.path,
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: '{"query":"{ __typename }"}',
            headersTimeout: timeoutMs,
            bodyTimeout: timeoutMs,
            signal: AbortSignal.timeout(timeoutMs),
          });
          await res.body.text();
          replica.up = res.statusCode === 200;
          if (!replica.up) replica.lastError = `probe answered ${res.statusCode}`;
        } catch (error) {
          replica.up = false;
          replica.lastError = error instanceof Error ? error.message : String(error);
        }
      }),
    );
    return this.stats();
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#replicas.map((r) => r.dispatcher.close()));
  }
}
