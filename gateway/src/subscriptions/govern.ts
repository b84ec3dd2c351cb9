import type { FormattedExecutionResult, GraphQLFormattedError } from 'graphql';
import type { StreamEndReason } from './types.ts';

/** Why the gateway ends a stream, and the error its last event carries. */
export interface StreamEnd {
  reason: StreamEndReason;
  error?: GraphQLFormattedError;
}

export interface GovernOptions {
  /** When the caller's credentials stop being valid (a JWT's `exp`), ms since the epoch. */
  expiresAt?: number | undefined;
  /** How often `recheck` runs (0 or undefined: never). */
  recheckEveryMs?: number | undefined;
  /** Checks the credentials again; an end it returns ends the stream. */
  recheck?(): Promise<StreamEnd | undefined>;
  /** Charges one event before it is delivered; an end it returns is delivered instead of the event. */
  charge?(event: FormattedExecutionResult): Promise<StreamEnd | undefined>;
  /** Turns an error the stream threw into its last event. */
  endOf(error: unknown): StreamEnd;
  /** Told once, when the stream ends for whatever reason (the client's `return()` is `client`). */
  onEnd?(end: StreamEnd): void;
  /** @default Date.now */
  now?(): number;
}

/** An event as the source gives it, before `map` turns it into what the client gets. */
type Source<T> = AsyncIterator<T>;

// setTimeout takes at most 2^31-1 ms; a later expiry is re-armed.
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Wraps a subscription's events with what ends it besides the upstream: the caller's credentials
 * expiring or being revoked, the budget running out, an error. Each ends the stream with one last event
 * carrying its error (then `done`), and closes the events underneath (`return()`), at once even while an
 * event is awaited. Pull-based like the events: nothing is buffered here. `map` turns each source event
 * into the client's (the starter formats errors there), so there is one iterator per subscription.
 *
 * A class, not closures: 10,000 open subscriptions each hold one of these.
 */
export function govern<T = FormattedExecutionResult>(
  events: Source<T>,
  options: GovernOptions,
  map?: (event: T) => FormattedExecutionResult,
): AsyncIterableIterator<FormattedExecutionResult> {
  return new Governed(events, options, map);
}

class Governed<T> implements AsyncIterableIterator<FormattedExecutionResult> {
  readonly #events: Source<T>;
  readonly #options: GovernOptions;
  readonly #map: ((event: T) => FormattedExecutionResult) | undefined;
  #ended: StreamEnd | undefined;
  #last: FormattedExecutionResult | undefined;
  #finished = false;
  #wake: ((end: StreamEnd) => void) | undefined;
  readonly #stopped: Promise<StreamEnd>;
  #expiry: NodeJS.Timeout | undefined;
  #interval: NodeJS.Timeout | undefined;

  constructor(
    events: Source<T>,
    options: GovernOptions,
    map: ((event: T) => FormattedExecutionResult) | undefined,
  ) {
    this.#events = events;
    this.#options = options;
    this.#map = map;
    this.#stopped = new Promise<StreamEnd>((resolve) => {
      this.#wake = resolve;
    });
    this.#arm();
    const every = options.recheckEveryMs ?? 0;
    if (options.recheck && every > 0 && !this.#ended) {
      this.#interval = setInterval(() => this.#recheck(), every);
      this.#interval.unref?.();
    }
  }

  #now(): number {
    return this.#options.now ? this.#options.now() : Date.now();
  }

  #recheck(): void {
    this.#options.recheck?.().then(
      (why) => why && this.end(why),
      () => {},
    );
  }

  #arm(): void {
    const at = this.#options.expiresAt;
    if (at === undefined) return;
    const left = at - this.#now();
    if (left <= 0) {
      this.#expired();
      return;
    }
    this.#expiry = setTimeout(
      () => (at - this.#now() <= 0 ? this.#expired() : this.#arm()),
      Math.min(left, MAX_TIMER_MS),
    );
    this.#expiry.unref?.();
  }

  #expired(): void {
    this.end({
      reason: 'expired',
      error: {
        message: 'The credentials of this subscription expired; subscribe again with fresh ones',
        extensions: { code: 'UNAUTHENTICATED', reason: 'TOKEN_EXPIRED' },
      },
    });
  }

  /** Ends the stream (first end wins); the last event, if it has an error, is delivered next. */
  end(why: StreamEnd): void {
    if (this.#ended) return;
    this.#ended = why;
    clearTimeout(this.#expiry);
    clearInterval(this.#interval);
    if (why.error) this.#last = { errors: [why.error] };
    this.#options.onEnd?.(why);
    this.#wake?.(why);
    void this.#events.return?.();
  }

  #done(): IteratorResult<FormattedExecutionResult> {
    const value = this.#last;
    if (value) {
      this.#last = undefined;
      return { done: false, value };
    }
    this.#finished = true;
    return { done: true, value: undefined };
  }

  async next(): Promise<IteratorResult<FormattedExecutionResult>> {
    if (this.#finished) return { done: true, value: undefined };
    if (this.#ended) return this.#done();
    let step: IteratorResult<T> | StreamEnd;
    try {
      step = await Promise.race([this.#events.next(), this.#stopped]);
    } catch (error) {
      this.end(this.#options.endOf(error));
      return this.#done();
    }
    if (this.#ended || !('done' in step)) return this.#done();
    if (step.done) {
      this.end({ reason: 'complete' });
      return this.#done();
    }
    const value = this.#map ? this.#map(step.value) : (step.value as FormattedExecutionResult);
    const refused = await this.#options.charge?.(value);
    if (refused) {
      this.end(refused);
      return this.#done();
    }
    if (this.#ended) return this.#done();
    return { done: false, value };
  }

  async return(): Promise<IteratorResult<FormattedExecutionResult>> {
    this.end({ reason: 'client' });
    this.#last = undefined;
    this.#finished = true;
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
