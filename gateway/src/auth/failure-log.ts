/** `auth.failureLog`: how many refusal lines are written per window. */
export interface FailureLogOptions {
  /** Lines written per window; past it, refusals are counted and summed up in one line. @default 10 */
  linesPerWindow: number;
  /** The window (ms). @default 60000 */
  windowMs: number;
  /** Clock in ms (tests). @default Date.now */
  now?: () => number;
}

export type LogLine = (message: string, fields: Record<string, unknown>) => void;

export interface FailureLog {
  /** One refused credential: logged, or counted toward the window's summary line. */
  refused(fields: Record<string, unknown>): void;
  /** Writes the pending summary line, if any (at shutdown). */
  flush(): void;
}

/**
 * Sampled warning lines about refused credentials: the first `linesPerWindow` of each window are
 * written as they come; the rest are counted, and one line (`authentication refusals suppressed`,
 * with the count by reason) is written when the window closes. A flood of bad keys writes a bounded
 * number of lines, and nothing is lost from the count (the metrics count every one).
 */
export function createFailureLog(log: LogLine, options: FailureLogOptions): FailureLog {
  const now = options.now ?? Date.now;
  let windowStart = Number.NEGATIVE_INFINITY;
  let written = 0;
  let suppressed: Record<string, number> = {};
  let suppressedTotal = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (suppressedTotal === 0) return;
    log('authentication refusals suppressed', {
      suppressed: suppressedTotal,
      byReason: suppressed,
      windowMs: options.windowMs,
    });
    suppressed = {};
    suppressedTotal = 0;
  };
  return {
    refused(fields) {
      const t = now();
      if (t - windowStart >= options.windowMs) {
        flush();
        windowStart = t;
        written = 0;
      }
      if (written < options.linesPerWindow) {
        written++;
        log('authentication refused', fields);
        return;
      }
      const reason = String(fields.reason ?? 'unknown');
      suppressed[reason] = (suppressed[reason] ?? 0) + 1;
      suppressedTotal++;
      if (!timer) {
        timer = setTimeout(flush, Math.max(0, windowStart + options.windowMs - t));
        timer.unref?.();
      }
    },
    flush,
  };
}
