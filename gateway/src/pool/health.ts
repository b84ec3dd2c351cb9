/** What active checks say of a replica: `unknown` until the first check. */
export type HealthStatus = 'unknown' | 'healthy' | 'unhealthy';

/** One check's verdict: `fail_now` (a 503) marks the replica unhealthy without waiting for the threshold. */
export type CheckResult = 'pass' | 'fail' | 'fail_now';

export interface ActiveHealthOptions {
  /** Consecutive passing checks that bring an unhealthy replica back. @default 2 */
  healthyThreshold?: number;
  /** Consecutive failing checks that take a healthy replica out. @default 2 */
  unhealthyThreshold?: number;
}

/** The state machine's thresholds when none are given. */
export const ACTIVE_HEALTH_DEFAULTS = { healthyThreshold: 2, unhealthyThreshold: 2 } as const;

/** Envoy's reading of a health-check answer: 200 passes, 503 means stop traffic now, anything else fails. */
export function classifyCheck(status: number | undefined): CheckResult {
  if (status === 200) return 'pass';
  return status === 503 ? 'fail_now' : 'fail';
}

/**
 * The active health-check state machine of one replica. The first check decides at once (as Envoy does
 * "during startup, only a single successful health check is required"), so a gateway starting next to a
 * dead replica routes around it from its first request; after that the thresholds damp flapping.
 */
export class ActiveHealth {
  readonly #healthyThreshold: number;
  readonly #unhealthyThreshold: number;
  #status: HealthStatus = 'unknown';
  #passes = 0;
  #fails = 0;

  constructor(options: ActiveHealthOptions = {}) {
    this.#healthyThreshold = Math.max(1, options.healthyThreshold ?? ACTIVE_HEALTH_DEFAULTS.healthyThreshold);
    this.#unhealthyThreshold = Math.max(
      1,
      options.unhealthyThreshold ?? ACTIVE_HEALTH_DEFAULTS.unhealthyThreshold,
    );
  }

  get status(): HealthStatus {
    return this.#status;
  }

  /** Records one check; returns the new status when this check changed it. */
  record(result: CheckResult): HealthStatus | undefined {
    const before = this.#status;
    if (result === 'pass') {
      this.#fails = 0;
      this.#passes++;
      if (before === 'unknown' || (before === 'unhealthy' && this.#passes >= this.#healthyThreshold))
        this.#status = 'healthy';
    } else {
      this.#passes = 0;
      this.#fails++;
      if (before === 'unknown' || result === 'fail_now' || this.#fails >= this.#unhealthyThreshold)
        this.#status = 'unhealthy';
    }
    return this.#status === before ? undefined : this.#status;
  }
}
