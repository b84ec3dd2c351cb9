import { randomBytes } from 'node:crypto';
import { Pool } from 'undici';
import { ActiveHealth, type ActiveHealthOptions, type CheckResult, classifyCheck } from './health.ts';
import { LatencyWindow } from './latency.ts';
import type { ReplicaTlsOptions } from './options.ts';
import type { Endpoint } from './strategies/index.ts';
import { PeakEwma } from './strategies/index.ts';

// Health checks carry an unsampled trace context: a replica that traces (parent-based sampling) records
// nothing for them, so checks every 2 s per replica do not fill Jaeger with one-span traces.
const UNSAMPLED = `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-00`;

/** A replica's labels (`{ track: canary }`): what routing rules select replica subsets by. */
export type ReplicaLabels = Readonly<Record<string, string>>;

export interface ReplicaSetup {
  weight: number;
  /** The static URL or `dns://` entry the replica comes from (its labels are that source's). */
  source: string;
  labels: ReplicaLabels;
  connections: number;
  keepAliveTimeoutMs: number;
  /** undici's own header/body timeouts: a backstop only, the pool's per-attempt timer fires first. */
  backstopTimeoutMs: number;
  ewmaDecayMs: number;
  health: ActiveHealthOptions;
  clock: () => number;
  /** Client certificate and trusted CA for an https:// replica. */
  tls?: ReplicaTlsOptions | undefined;
}

/**
 * One replica: its keep-alive connection pool (undici), a separate one-connection pool for health checks
 * (so a check never queues behind slow traffic and reads as a timeout), and the numbers the pool
 * balances and reports on. The pool owns every decision; this class only holds state and does I/O.
 */
export class Replica implements Endpoint {
  readonly id: string;
  readonly url: string;
  readonly path: string;
  readonly origin: string;
  /** `server.address` and `server.port` of the attempt spans (HTTP client conventions). */
  readonly serverAddress: string;
  readonly serverPort: number;
  readonly dispatcher: Pool;
  readonly configuredWeight: number;
  readonly ewma: PeakEwma;
  readonly latency = new LatencyWindow();
  readonly health: ActiveHealth;
  readonly #keepAliveTimeoutMs: number;
  readonly #connectTimeoutMs: number;
  readonly #tls: ReplicaTlsOptions;
  #checker: Pool | undefined;
  #closed = false;
  readonly source: string;
  /** Set again when a config reload relabels the replica's source. */
  labels: ReplicaLabels;
  /** Effective weight, refreshed by the pool before each pick (slow start). */
  weight: number;
  requests = 0;
  errors = 0;
  outstanding = 0;
  lastError: string | null = null;
  /** Whether anything (a request or a check) was ever answered. */
  answered = false;
  /** When a fetch to it last got an answer (performance.now() ms; any status); -Infinity before one. */
  lastAnswerAt = Number.NEGATIVE_INFINITY;
  /** Clock time slow start began; undefined when not in slow start. */
  slowStartSince: number | undefined;

  constructor(url: string, setup: ReplicaSetup) {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      throw new TypeError(`replica URL must be http(s): ${url}`);
    this.id = url;
    this.url = url;
    this.origin = parsed.origin;
    this.serverAddress = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
    this.serverPort = parsed.port ? Number(parsed.port) : parsed.protocol === 'https:' ? 443 : 80;
    this.path = `${parsed.pathname}${parsed.search}`;
    this.configuredWeight = setup.weight;
    this.source = setup.source;
    this.labels = setup.labels;
    this.weight = setup.weight;
    this.ewma = new PeakEwma(setup.ewmaDecayMs, setup.clock);
    this.health = new ActiveHealth(setup.health);
    this.#keepAliveTimeoutMs = setup.keepAliveTimeoutMs;
    this.#connectTimeoutMs = Math.min(setup.backstopTimeoutMs, 5_000);
    // Only for https: replicas; undici ignores TLS options on a plain connection anyway.
    this.#tls = parsed.protocol === 'https:' ? tlsConnectOptions(setup.tls) : {};
    this.dispatcher = new Pool(this.origin, {
      connections: setup.connections,
      keepAliveTimeout: setup.keepAliveTimeoutMs,
      headersTimeout: setup.backstopTimeoutMs,
      bodyTimeout: setup.backstopTimeoutMs,
      connect: { timeout: this.#connectTimeoutMs, ...this.#tls },
    });
  }

  get cost(): number {
    return this.ewma.cost;
  }

  /**
   * One active check: GET `path` on the replica's origin when given, else POST `{ __typename }` to the
   * GraphQL endpoint (as Apollo's health check does: it works on any GraphQL server, no route needed).
   */
  async check(path: string | undefined, timeoutMs: number): Promise<{ result: CheckResult; detail: string }> {
    if (this.#closed) return { result: 'fail', detail: 'replica closed' };
    this.#checker ??= new Pool(this.origin, {
      connections: 1,
      keepAliveTimeout: this.#keepAliveTimeoutMs,
      connect: { timeout: Math.min(timeoutMs, this.#connectTimeoutMs), ...this.#tls },
    });
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new Error(`health check timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
    try {
      const res = await this.#checker.request(
        path
          ? { path, method: 'GET', headers: { traceparent: UNSAMPLED }, signal: controller.signal }
          : {
              path: this.path,
              method: 'POST',
              headers: { 'content-type': 'application/json', traceparent: UNSAMPLED },
              body: '{"query":"{ __typename }"}',
              signal: controller.signal,
            },
      );
      await res.body.text();
      const result = classifyCheck(res.statusCode);
      return { result, detail: `health check answered ${res.statusCode}` };
    } catch (error) {
      return {
        result: 'fail',
        detail: `health check failed: ${error instanceof Error ? error.message : String(error)}`,
      };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes both connection pools; undici lets requests already sent finish first (the drain). */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([this.dispatcher.close(), this.#checker?.close()]);
  }
}

/** undici's `connect` TLS options of a replica: only those given (an absent `ca` keeps the system's CAs). */
function tlsConnectOptions(tls: ReplicaTlsOptions | undefined): ReplicaTlsOptions {
  const out: ReplicaTlsOptions = {};
  if (tls?.cert) out.cert = tls.cert;
  if (tls?.key) out.key = tls.key;
  if (tls?.ca) out.ca = tls.ca;
  return out;
}
