import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { GatewayConfig } from '../config/index.ts';

/** What the HTTP handler sheds on: too many requests at once, or a lagging event loop. */
export interface OverloadGuard {
  /** GraphQL requests served at once; more get 503 at once. */
  readonly maxConcurrent: number;
  /** True while the event loop lags past `server.maxEventLoopLagMs`; absent when that check is off. */
  readonly overloaded: (() => boolean) | undefined;
  stop(): void;
}

/**
 * Event-loop lag over the last second, as a load-shedding signal (issue 9): p99 of the loop's delay,
 * sampled every 10 ms, against `maxLagMs`.
 */
function watchEventLoopLag(maxLagMs: number) {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  let lastWindow = 0;
  const timer = setInterval(() => {
    lastWindow = histogram.percentile(99) / 1e6;
    histogram.reset();
  }, 1_000);
  timer.unref();
  return {
    // the window just closed, or the one running: a stall shows up as soon as the loop samples it
    get overloaded() {
      return Math.max(lastWindow, histogram.percentile(99) / 1e6) > maxLagMs;
    },
    stop() {
      clearInterval(timer);
      histogram.disable();
    },
  };
}

export function createOverloadGuard(server: GatewayConfig['server']): OverloadGuard {
  const lag = server.maxEventLoopLagMs > 0 ? watchEventLoopLag(server.maxEventLoopLagMs) : undefined;
  return {
    maxConcurrent: server.maxConcurrentRequests,
    overloaded: lag ? () => lag.overloaded : undefined,
    stop: () => lag?.stop(),
  };
}
