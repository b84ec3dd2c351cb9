import type { Server, ServerResponse } from 'node:http';
import { sendJson } from '@tollgate/kit/http';
import type { GatewayConfig } from '../config/index.ts';
import { ErrorCode } from '../errors/index.ts';
import { AdmissionQueue, type AdmissionStats, fixedLimit, type Permit } from './admission-queue.ts';
import { type ConnectionStats, guardConnections } from './connections.ts';
import { watchEventLoopLag } from './event-loop-lag.ts';
import { GradientLimit } from './gradient-limit.ts';
import {
  firstErrorCode,
  REFUSAL_STATUSES,
  type RefusalCount,
  RefusalCounter,
  type RefusalReason,
  refusalReason,
} from './refusals.ts';

/** The `server` keys admission reads. */
export type AdmissionConfig = Pick<
  GatewayConfig['server'],
  'maxConcurrentRequests' | 'maxEventLoopLagMs' | 'admission' | 'maxConnections' | 'maxConnectionsHard'
>;

/** What /metrics shows of admission. */
export interface AdmissionSnapshot extends AdmissionStats {
  refusals: RefusalCount[];
  connections: ConnectionStats;
}

/** The gateway's admission: one per process (graphs share it), whatever the number of graphs. */
export interface Admission {
  /**
   * A GraphQL request asks to run: true (sync) when it runs now; a promise when it waits in the queue
   * (true once it runs); false once it has been answered 503 (OVERLOADED, Retry-After). Its slot is
   * given back when `res` closes.
   */
  admit(res: ServerResponse): boolean | Promise<boolean>;
  /** Counts `res` in /metrics if it ends with a refusing status (401, 408, 413, 429, 431, 503). */
  watch(res: ServerResponse): void;
  /** The GraphQL response `res` is answered with: a refusal's reason is read from its error code. */
  noteBody(res: ServerResponse, status: number, body: string): void;
  /** Answers 503 OVERLOADED with Retry-After, counted under `reason`. */
  shed(res: ServerResponse, reason: RefusalReason, message?: string): void;
  /** True while the event loop lags past `server.maxEventLoopLagMs`; absent when that check is off. */
  readonly overloaded: (() => boolean) | undefined;
  /** Caps the connections of a listener (`server.maxConnections`) and counts its 431/408/400 refusals. */
  guard(server: Server): void;
  snapshot(): AdmissionSnapshot;
  /** Shutting down: 503s from now on count as `shutdown`. */
  close(): void;
  /** Stops its timers (the event-loop watch, the queue's deadline). */
  stop(): void;
}

const tags = new WeakMap<ServerResponse, string>();

/**
 * Adaptive admission of GraphQL requests (docs/reliability.md#overload): a gradient concurrency limit
 * bounded by `server.maxConcurrentRequests`, a short CoDel-like queue, the event-loop lag guard, the
 * connection cap, and every refusal counted.
 */
export function createAdmission(server: AdmissionConfig): Admission {
  const a = server.admission;
  const limit = a.enabled
    ? new GradientLimit({
        max: server.maxConcurrentRequests,
        initial: a.initialLimit,
        min: a.minLimit,
        tolerance: a.tolerance,
        smoothing: a.smoothing,
      })
    : fixedLimit(server.maxConcurrentRequests);
  const queue = new AdmissionQueue<Waiting>(
    limit,
    { queueTimeoutMs: a.queueTimeoutMs, maxQueue: a.maxQueue },
    () => performance.now(),
  );
  const lag = server.maxEventLoopLagMs > 0 ? watchEventLoopLag(server.maxEventLoopLagMs) : undefined;
  const refusals = new RefusalCounter();
  const connections: ConnectionStats = { open: 0, refused: 0, dropped: 0 };
  let closing = false;
  let timer: NodeJS.Timeout | undefined;
  let timerAt = Number.POSITIVE_INFINITY;

  interface Waiting {
    res: ServerResponse;
    resolve(admitted: boolean): void;
  }

  const shed = (
    res: ServerResponse,
    reason: RefusalReason,
    message = 'The gateway is overloaded; retry shortly',
  ) => {
    tags.set(res, reason);
    if (res.headersSent || res.destroyed) return;
    sendJson(
      res,
      503,
      { errors: [{ message, extensions: { code: ErrorCode.OVERLOADED } }] },
      { 'retry-after': '1' },
    );
  };

  const run = (res: ServerResponse, permit: Permit) => {
    res.once('close', () => {
      for (const next of queue.finish(permit, res.writableFinished)) {
        run(next.item.res, next.permit);
        next.item.resolve(true);
      }
      arm();
    });
  };

  // one timer, for the oldest waiter's deadline
  const arm = () => {
    const at = queue.nextExpiry();
    if (at === undefined) {
      if (timer) clearTimeout(timer);
      timer = undefined;
      timerAt = Number.POSITIVE_INFINITY;
      return;
    }
    if (timer && timerAt <= at) return;
    if (timer) clearTimeout(timer);
    timerAt = at;
    timer = setTimeout(onTimer, Math.max(0, at - performance.now()));
    timer.unref();
  };
  const onTimer = () => {
    timer = undefined;
    timerAt = Number.POSITIVE_INFINITY;
    for (const waiting of queue.expire()) {
      shed(waiting.res, 'queue_timeout');
      waiting.resolve(false);
    }
    arm();
  };

  return {
    admit(res) {
      if (lag?.overloaded) {
        shed(res, 'event_loop');
        return false;
      }
      const waiting: Waiting = { res, resolve: () => {} };
      const offer = queue.offer(waiting);
      if (offer.kind === 'admitted') {
        run(res, offer.permit);
        return true;
      }
      if (offer.kind === 'refused') {
        shed(
          res,
          'admission',
          `The gateway is at its limit of ${queue.stats.limit} concurrent requests; retry shortly`,
        );
        return false;
      }
      const queued = waiting;
      const promise = new Promise<boolean>((resolve) => {
        queued.resolve = resolve;
      });
      // a client that leaves while waiting frees its place
      res.once('close', () => {
        if (queue.cancel(queued)) {
          queued.resolve(false);
          arm();
        }
      });
      arm();
      return promise;
    },
    watch(res) {
      res.once('finish', () => {
        const status = res.statusCode;
        if (!REFUSAL_STATUSES.has(status)) return;
        refusals.count(status, tags.get(res) ?? refusalReason(status, undefined, closing));
      });
    },
    noteBody(res, status, body) {
      if (REFUSAL_STATUSES.has(status) && !tags.has(res))
        tags.set(res, refusalReason(status, firstErrorCode(body), closing));
    },
    shed,
    overloaded: lag ? () => lag.overloaded : undefined,
    guard(http) {
      guardConnections(http, server, { refusals, stats: connections, shed });
    },
    snapshot: () => ({ ...queue.stats, refusals: refusals.snapshot(), connections: { ...connections } }),
    close() {
      closing = true;
    },
    stop() {
      lag?.stop();
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
