import { type Context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { failSpan, tracer } from '../telemetry/index.ts';
import type { SubgraphLatency } from './adaptive.ts';
import { PoolError } from './errors.ts';
import type { AttemptEvent } from './options.ts';
import { post } from './post.ts';
import type { Replica } from './replica.ts';
import type { ReplicaSet } from './replica-set.ts';
import { classifyError, type FailureKind } from './retry.ts';
import type { StrategyName } from './strategies/index.ts';
import type { RouteOutcome } from './subset.ts';

export interface SendResult {
  status: number;
  contentType: string;
  body: string;
  replica: string;
  /** How routing went, for a fetch a routing rule routed (`SendOptions.route`). */
  routed?: RouteOutcome | undefined;
}

/** How one attempt ended: an answer (of any status), or a failure sorted for the retry rules. */
export type Outcome =
  | { kind: 'response'; result: SendResult }
  | { kind: FailureKind; error: unknown; replica: string; afterMs: number };

/** What every attempt of one pool shares. */
export interface AttemptContext {
  pool: string;
  strategy: StrategyName;
  /** Lower-cased; '' sends none. */
  deadlineHeader: string;
  /** Told of each answer and failure (outlier detection, latency). */
  set: ReplicaSet;
  /** The subgraph's recent attempt durations (answers below 500 and timeouts): what adaptive timeouts and hedges follow. */
  latency: SubgraphLatency;
  onAttempt: ((event: AttemptEvent) => void) | undefined;
}

export interface AttemptRequest {
  body: string;
  headers: Record<string, string>;
  /** Time this attempt may take, in ms; sent to the replica in the deadline header. */
  budgetMs: number;
  /**
   * An adaptive cut (budgetMs is the subgraph's recent latency, not the fetch's deadline): when it is
   * due while the replica keeps answering other fetches, the replica is busy, not hung, and the attempt
   * waits on, interval by interval, up to this many ms in all (the fetch's own limit, sent in the
   * deadline header instead); it is cut once an interval passes with no answer from the replica.
   */
  cutIfSilentUpToMs?: number | undefined;
  signal: AbortSignal | undefined;
  /** 1 for the first attempt of a fetch. */
  attempt: number;
  /** Why the previous attempt is being retried: `status 503`, `reset`, `timeout`… */
  retryReason: string | undefined;
  traceContext: Context;
  /** A hedge: sent while an earlier attempt of the fetch is still out. */
  hedge?: boolean | undefined;
}

/**
 * The abort reason of an attempt cancelled because another attempt of its fetch answered first (a
 * hedge race): not a failure of the replica by itself, so the attempt does not count it.
 */
export class Superseded extends Error {
  constructor() {
    super('cancelled: another attempt of the fetch answered first');
    this.name = 'Superseded';
  }
}

const nowMs = () => performance.now();

/** Sends one attempt to one replica and records what came of it; never throws. */
export async function attempt(ctx: AttemptContext, replica: Replica, req: AttemptRequest): Promise<Outcome> {
  const { budgetMs, signal, attempt: n, retryReason } = req;
  // The attempt span (a client span: one per replica tried, named and attributed by the HTTP client
  // conventions, Tollgate's own facts under `tollgate.`) when the fetch records; either way the
  // outgoing request carries the trace context, so the replica's server span is its child, and an
  // unsampled request stays unsampled downstream. Nothing is injected when tracing is off.
  const parent = req.traceContext;
  const span = trace.getSpan(parent)?.isRecording()
    ? tracer.startSpan(
        'POST',
        {
          kind: SpanKind.CLIENT,
          attributes: {
            'http.request.method': 'POST',
            'server.address': replica.serverAddress,
            'server.port': replica.serverPort,
            'url.full': replica.url,
            ...(n > 1 ? { 'http.request.resend_count': n - 1 } : {}),
            'tollgate.subgraph.name': ctx.pool,
            'tollgate.replica': replica.url,
            'tollgate.pool.strategy': ctx.strategy,
            'tollgate.attempt': n,
            ...(req.hedge ? { 'tollgate.pool.hedge': true } : {}),
            ...(retryReason ? { 'tollgate.retry_reason': retryReason } : {}),
          },
        },
        parent,
      )
    : undefined;
  let timedOut = false;
  const upTo = req.cutIfSilentUpToMs;
  const sent: Record<string, string> = ctx.deadlineHeader
    ? { ...req.headers, [ctx.deadlineHeader]: String(Math.max(1, Math.floor(upTo ?? budgetMs))) }
    : { ...req.headers };
  propagation.inject(span ? trace.setSpan(parent, span) : parent, sent);
  replica.requests++;
  replica.outstanding++;
  const t0 = nowMs();
  let heardSince = t0;
  // Busy (it answered something since the last look) or hung (silent): a burst slows every replica
  // at once and must not read as a hang, or the retries of cut attempts pile onto replicas already busy.
  const extendMs =
    upTo === undefined
      ? undefined
      : () => {
          const now = nowMs();
          const busy = replica.lastAnswerAt > heardSince;
          heardSince = now;
          const left = t0 + upTo - now;
          return busy && left > 1 ? Math.min(budgetMs, left) : 0;
        };
  try {
    const res = await post(replica.dispatcher, {
      path: replica.path,
      headers: sent,
      body: req.body,
      timeoutMs: budgetMs,
      extendMs,
      timeoutError: () => {
        timedOut = true;
        return new PoolError('POOL_TIMEOUT', `attempt timed out after ${Math.round(nowMs() - t0)} ms`);
      },
      signal,
    });
    const text = res.body;
    const rtt = nowMs() - t0;
    replica.lastAnswerAt = t0 + rtt;
    replica.latency.record(rtt);
    if (res.statusCode < 500) ctx.latency.record(rtt);
    replica.answered = true;
    if (res.statusCode < 500) replica.ewma.observe(rtt);
    if (res.statusCode >= 500) {
      replica.errors++;
      replica.lastError = `answered ${res.statusCode}`;
      ctx.set.failed(replica, rtt);
    } else {
      ctx.set.succeeded(replica);
    }
    emit(ctx, replica, n, rtt, res.statusCode >= 500 ? 'status' : 'ok', res.statusCode);
    if (span) {
      span.setAttribute('http.response.status_code', res.statusCode);
      // HTTP client conventions: a 4xx or 5xx answer is an error of the client span, typed by its status
      if (res.statusCode >= 400) {
        span.setAttribute('error.type', String(res.statusCode));
        span.setStatus({ code: SpanStatusCode.ERROR, message: `answered ${res.statusCode}` });
      }
    }
    return {
      kind: 'response',
      result: {
        status: res.statusCode,
        contentType: res.contentType,
        body: text,
        replica: replica.url,
      },
    };
  } catch (error) {
    const rtt = nowMs() - t0;
    const kind: FailureKind = timedOut ? 'timeout' : signal?.aborted ? 'aborted' : classifyError(error);
    // a timed-out attempt is recorded at its timeout: when a subgraph gets slow everywhere, its
    // percentiles rise and the adaptive timeout follows instead of cutting every attempt
    if (kind === 'timeout') ctx.latency.record(rtt);
    if (kind === 'aborted' && signal?.reason instanceof Superseded) {
      emit(ctx, replica, n, rtt, kind);
      span?.setAttribute('tollgate.pool.cancelled', true);
      return { kind, error, replica: replica.url, afterMs: rtt };
    }
    if (kind !== 'aborted') {
      replica.errors++;
      replica.lastError = error instanceof Error ? error.message : String(error);
      // a refused connection measured no round trip
      if (kind !== 'connect') replica.latency.record(rtt);
      ctx.set.failed(replica, kind === 'connect' ? 0 : rtt);
    }
    emit(ctx, replica, n, rtt, kind);
    if (span) {
      span.setAttribute('error.type', kind);
      failSpan(span, error);
    }
    return { kind, error, replica: replica.url, afterMs: rtt };
  } finally {
    span?.end();
    replica.outstanding--;
  }
}

function emit(
  ctx: AttemptContext,
  replica: Replica,
  attempt: number,
  durationMs: number,
  outcome: AttemptEvent['outcome'],
  status?: number,
): void {
  if (!ctx.onAttempt) return;
  try {
    ctx.onAttempt({
      pool: ctx.pool,
      replica: replica.url,
      attempt,
      durationMs,
      outcome,
      ...(status === undefined ? {} : { status }),
    });
  } catch {
    // a metrics hook must not break traffic
  }
}
