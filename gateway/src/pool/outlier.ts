export interface OutlierOptions {
  /** Consecutive failures (5xx, timeouts, resets, refused connections) that eject a replica; 0 turns ejection off. @default 5 */
  consecutiveFailures?: number;
  /** Ejection time is this × the number of times the replica was ejected. @default 30000 */
  baseEjectionMs?: number;
  /** Cap on one ejection's length. @default 300000 */
  maxEjectionMs?: number;
  /** At most this share of the pool is ejected at once, but always at least one replica. @default 10 */
  maxEjectionPercent?: number;
  /**
   * The ejection multiplier drops by one for each such period a replica spends un-ejected, so a replica
   * that failed once long ago is not punished as a repeat offender. @default 10000 (Envoy's interval)
   */
  decayIntervalMs?: number;
}

/** The detector's defaults; the pool's and the config schema's come from here (through `POOL_DEFAULTS`). */
export const OUTLIER_DEFAULTS = {
  consecutiveFailures: 5,
  baseEjectionMs: 30_000,
  maxEjectionMs: 300_000,
  maxEjectionPercent: 10,
  decayIntervalMs: 10_000,
} as const;

interface Host {
  failures: number;
  timesEjected: number;
  /** Clock time the ejection ends; undefined when not ejected. */
  ejectedUntil: number | undefined;
  unejectedAt: number | undefined;
}

/** Per-replica outlier numbers, for stats. */
export interface OutlierInfo {
  consecutiveFailures: number;
  timesEjected: number;
  /** Time left in the current ejection in ms; 0 when not ejected. */
  ejectedForMs: number;
}

/**
 * Passive outlier detection as Envoy's consecutive-5xx detector (`outlier_detection.proto`): a replica
 * whose last N answers all failed is ejected for `base × times ejected` (capped), within the max ejection
 * percent. Ejections end when their time is up (`sweep`) or when an active check passes (`uneject`).
 * Pure: time comes from the injected clock.
 */
export class OutlierDetector {
  readonly #threshold: number;
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #maxPercent: number;
  readonly #decayMs: number;
  readonly #clock: () => number;
  readonly #hosts = new Map<string, Host>();

  constructor(options: OutlierOptions = {}, clock: () => number = () => performance.now()) {
    this.#threshold = options.consecutiveFailures ?? OUTLIER_DEFAULTS.consecutiveFailures;
    this.#baseMs = options.baseEjectionMs ?? OUTLIER_DEFAULTS.baseEjectionMs;
    this.#maxMs = Math.max(options.maxEjectionMs ?? OUTLIER_DEFAULTS.maxEjectionMs, this.#baseMs);
    this.#maxPercent = options.maxEjectionPercent ?? OUTLIER_DEFAULTS.maxEjectionPercent;
    this.#decayMs = options.decayIntervalMs ?? OUTLIER_DEFAULTS.decayIntervalMs;
    this.#clock = clock;
  }

  add(id: string): void {
    if (!this.#hosts.has(id))
      this.#hosts.set(id, { failures: 0, timesEjected: 0, ejectedUntil: undefined, unejectedAt: undefined });
  }

  remove(id: string): void {
    this.#hosts.delete(id);
  }

  success(id: string): void {
    const host = this.#hosts.get(id);
    if (host) host.failures = 0;
  }

  /** Records a failure; true when it ejected the replica. */
  failure(id: string): boolean {
    const host = this.#hosts.get(id);
    if (!host) return false;
    host.failures++;
    if (this.#threshold <= 0 || host.failures < this.#threshold || this.isEjected(id)) return false;
    if (this.ejectedCount() >= this.maxEjected()) return false;
    const now = this.#clock();
    if (host.unejectedAt !== undefined && this.#decayMs > 0) {
      host.timesEjected = Math.max(
        0,
        host.timesEjected - Math.floor((now - host.unejectedAt) / this.#decayMs),
      );
    }
    host.timesEjected++;
    host.ejectedUntil = now + Math.min(this.#baseMs * host.timesEjected, this.#maxMs);
    host.failures = 0;
    return true;
  }

  /** How many replicas may be out at once: the max ejection percent, but at least one ("will eject at least one host"). */
  maxEjected(): number {
    return Math.max(1, Math.floor((this.#hosts.size * this.#maxPercent) / 100));
  }

  isEjected(id: string): boolean {
    const until = this.#hosts.get(id)?.ejectedUntil;
    return until !== undefined && until > this.#clock();
  }

  ejectedCount(): number {
    let n = 0;
    for (const id of this.#hosts.keys()) if (this.isEjected(id)) n++;
    return n;
  }

  /** Ends an ejection early (a passing active check); true when the replica was ejected. */
  uneject(id: string): boolean {
    const host = this.#hosts.get(id);
    if (!host || host.ejectedUntil === undefined) return false;
    const was = this.isEjected(id);
    host.ejectedUntil = undefined;
    host.unejectedAt = this.#clock();
    host.failures = 0;
    return was;
  }

  /** Ends the ejections whose time is up; returns those replicas (they start their slow start). */
  sweep(): string[] {
    const now = this.#clock();
    const back: string[] = [];
    for (const [id, host] of this.#hosts) {
      if (host.ejectedUntil !== undefined && host.ejectedUntil <= now) {
        host.unejectedAt = host.ejectedUntil;
        host.ejectedUntil = undefined;
        back.push(id);
      }
    }
    return back;
  }

  info(id: string): OutlierInfo {
    const host = this.#hosts.get(id);
    if (!host) return { consecutiveFailures: 0, timesEjected: 0, ejectedForMs: 0 };
    const left = host.ejectedUntil === undefined ? 0 : Math.max(0, host.ejectedUntil - this.#clock());
    return {
      consecutiveFailures: host.failures,
      timesEjected: host.timesEjected,
      ejectedForMs: Math.round(left),
    };
  }
}
