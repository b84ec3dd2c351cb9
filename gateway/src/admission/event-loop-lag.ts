import { monitorEventLoopDelay } from 'node:perf_hooks';

/**
 * Event-loop lag over the last second, as a load-shedding signal (issue 9): p99 of the loop's delay,
 * sampled every 10 ms, against `maxLagMs`.
 */
export function watchEventLoopLag(maxLagMs: number) {
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
