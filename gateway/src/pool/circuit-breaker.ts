// A per-subgraph circuit breaker (the failure-rate breaker of resilience4j and Cosmo, with half-open
// trials as graphql-hive/router#489 asks): while a subgraph fails most of its fetches, further fetches
// fail at once with SUBGRAPH_UNAVAILABLE instead of each waiting out the timeout of a hung service, and
// a few trial fetches decide when traffic resumes. Pure: the clock is injected.

export interface CircuitBreakerOptions {
  /** Share of failed fetches in the window that opens the circuit, in percent. @default 50 */
  failureRatePercent?: number;
  /** Fewest fetches in the window before its failure rate counts. @default 20 */
  minRequests?: number;
  /** Length of the rolling window of outcomes (ms), kept in 10 buckets. @default 10000 */
  windowMs?: number;
  /** How long the circuit stays open before trial fetches go through (ms). @default 5000 */
  openMs?: number;
  /** Trial fetches let through once open time is over; all must succeed to close, one failure reopens. @default 3 */
  halfOpenRequests?: number;
}

/** The breaker's defaults when one is turned on without settings. */
export const CIRCUIT_BREAKER_DEFAULTS = {
  failureRatePercent: 50,
  minRequests: 20,
  windowMs: 10_000,
  openMs: 5_000,
  halfOpenRequests: 3,
} as const;

export type CircuitState = 'closed' | 'open' | 'half_open';

/** What `tryAcquire` hands out; give it back to `record` with the fetch's outcome. */
export interface CircuitPermit {
  readonly generation: number;
}

export interface CircuitSnapshot {
  state: CircuitState;
  /** Fetches and failures in the current window (closed state). */
  requests: number;
  failures: number;
  /** Times the circuit opened since start. */
  opened: number;
  /** Fetches refused while open or past the half-open trials, since start. */
  rejected: number;
  /** Time left open (ms); 0 unless open. */
  openForMs: number;
}

const BUCKETS = 10;

export class CircuitBreaker {
  readonly #rate: number;
  readonly #min: number;
  readonly #bucketMs: number;
  readonly #openMs: number;
  readonly #trials: number;
  readonly #now: () => number;
  #state: CircuitState = 'closed';
  // Generation of the current state: outcomes of fetches let through in an earlier one are ignored.
  #generation = 0;
  #openUntil = 0;
  #trialsStarted = 0;
  #trialsPassed = 0;
  #opened = 0;
  #rejected = 0;
  // rolling window: bucket i counts the fetches that ended in its slot
  readonly #requests = new Array<number>(BUCKETS).fill(0);
  readonly #failures = new Array<number>(BUCKETS).fill(0);
  #bucket = 0;
  #bucketStart: number;

  constructor(options: CircuitBreakerOptions = {}, now: () => number = () => performance.now()) {
    this.#rate = Math.min(
      100,
      Math.max(1, options.failureRatePercent ?? CIRCUIT_BREAKER_DEFAULTS.failureRatePercent),
    );
    this.#min = Math.max(1, options.minRequests ?? CIRCUIT_BREAKER_DEFAULTS.minRequests);
    this.#bucketMs = Math.max(1, options.windowMs ?? CIRCUIT_BREAKER_DEFAULTS.windowMs) / BUCKETS;
    this.#openMs = Math.max(0, options.openMs ?? CIRCUIT_BREAKER_DEFAULTS.openMs);
    this.#trials = Math.max(1, options.halfOpenRequests ?? CIRCUIT_BREAKER_DEFAULTS.halfOpenRequests);
    this.#now = now;
    this.#bucketStart = now();
  }

  get state(): CircuitState {
    if (this.#state === 'open' && this.#now() >= this.#openUntil) this.#halfOpen();
    return this.#state;
  }

  /** A permit when a fetch may go ahead now; undefined when the circuit refuses it. */
  tryAcquire(): CircuitPermit | undefined {
    const state = this.state;
    if (state === 'closed') return { generation: this.#generation };
    if (state === 'half_open' && this.#trialsStarted < this.#trials) {
      this.#trialsStarted++;
      return { generation: this.#generation };
    }
    this.#rejected++;
    return undefined;
  }

  /** The outcome of a fetch `tryAcquire` let through. */
  record(permit: CircuitPermit, success: boolean): void {
    if (permit.generation !== this.#generation) return;
    if (this.#state === 'half_open') {
      if (!success) this.#open();
      else if (++this.#trialsPassed >= this.#trials) this.#close();
      return;
    }
    if (this.#state !== 'closed') return;
    this.#roll();
    this.#requests[this.#bucket]!++;
    if (!success) this.#failures[this.#bucket]!++;
    const requests = sum(this.#requests);
    if (requests >= this.#min && sum(this.#failures) * 100 >= this.#rate * requests) this.#open();
  }

  /** Gives back a permit whose fetch says nothing about the subgraph (aborted by its caller, refused locally). */
  release(permit: CircuitPermit): void {
    if (permit.generation === this.#generation && this.#state === 'half_open') this.#trialsStarted--;
  }

  snapshot(): CircuitSnapshot {
    const state = this.state;
    if (state === 'closed') this.#roll();
    return {
      state,
      requests: state === 'closed' ? sum(this.#requests) : 0,
      failures: state === 'closed' ? sum(this.#failures) : 0,
      opened: this.#opened,
      rejected: this.#rejected,
      openForMs: state === 'open' ? Math.max(0, this.#openUntil - this.#now()) : 0,
    };
  }

  /** Time until the open circuit lets trials through (ms); 0 unless open. */
  get openForMs(): number {
    return this.state === 'open' ? Math.max(0, this.#openUntil - this.#now()) : 0;
  }

  #open(): void {
    this.#state = 'open';
    this.#generation++;
    this.#opened++;
    this.#openUntil = this.#now() + this.#openMs;
  }

  #halfOpen(): void {
    this.#state = 'half_open';
    this.#generation++;
    this.#trialsStarted = 0;
    this.#trialsPassed = 0;
  }

  #close(): void {
    this.#state = 'closed';
    this.#generation++;
    this.#requests.fill(0);
    this.#failures.fill(0);
    this.#bucketStart = this.#now();
  }

  // Advances the window to now, clearing the buckets that fell out of it.
  #roll(): void {
    const elapsed = Math.floor((this.#now() - this.#bucketStart) / this.#bucketMs);
    if (elapsed <= 0) return;
    for (let i = 0; i < Math.min(elapsed, BUCKETS); i++) {
      this.#bucket = (this.#bucket + 1) % BUCKETS;
      this.#requests[this.#bucket] = 0;
      this.#failures[this.#bucket] = 0;
    }
    this.#bucketStart += elapsed * this.#bucketMs;
  }
}

const sum = (xs: readonly number[]) => {
  let total = 0;
  for (const x of xs) total += x;
  return total;
};
