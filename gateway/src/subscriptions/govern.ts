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
  /** Checks the credentials again every `everyMs` (0: never); an end it returns ends the stream. */
  recheck?: { everyMs: number; check(): Promise<StreamEnd | undefined> } | undefined;
  /** Charges one event before it is delivered; an end it returns is delivered instead of the event. */
  charge?: ((event: FormattedExecutionResult) => Promise<StreamEnd | undefined>) | undefined;
  /** Turns an error the stream threw into its last event. */
  endOf(error: unknown): StreamEnd;
  /** Told once, when the stream ends for whatever reason (the client's `return()` is `client`). */
  onEnd?: ((end: StreamEnd) => void) | undefined;
  /** @default Date.now */
  now?: () => number;
}

// setTimeout takes at most 2^31-1 ms; a later expiry is re-armed.
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Wraps a subscription's events with what ends it besides the upstream: the caller's credentials
 * expiring or being revoked, the budget running out, an error. Each ends the stream with one last event
 * carrying its error (then `done`), and closes the events underneath (`return()`), at once even while an
 * event is awaited. Pull-based like the events: nothing is buffered here.
 */
export function govern(
  events: AsyncIterableIterator<FormattedExecutionResult>,
  options: GovernOptions,
): AsyncIterableIterator<FormattedExecutionResult> {
  const now = options.now ?? Date.now;
  let ended: StreamEnd | undefined;
  let last: FormattedExecutionResult | undefined;
  let finished = false;
  let wake: ((end: StreamEnd) => void) | undefined;
  const stopped = new Promise<StreamEnd>((resolve) => {
    wake = resolve;
  });
  let expiry: NodeJS.Timeout | undefined;
  let interval: NodeJS.Timeout | undefined;

  const clear = () => {
    clearTimeout(expiry);
    clearInterval(interval);
  };
  /** Ends the stream (first end wins); the last event, if it has an error, is delivered next. */
  const end = (why: StreamEnd) => {
    if (ended) return;
    ended = why;
    clear();
    if (why.error) last = { errors: [why.error] };
    options.onEnd?.(why);
    wake?.(why);
    void events.return?.();
  };

  const arm = () => {
    const at = options.expiresAt;
    if (at === undefined) return;
    const left = at - now();
    if (left <= 0) return expired();
    expiry = setTimeout(() => (at - now() <= 0 ? expired() : arm()), Math.min(left, MAX_TIMER_MS));
    expiry.unref?.();
  };
  const expired = () =>
    end({
      reason: 'expired',
      error: {
        message: 'The credentials of this subscription expired; subscribe again with fresh ones',
        extensions: { code: 'UNAUTHENTICATED', reason: 'TOKEN_EXPIRED' },
      },
    });
  arm();
  const recheck = options.recheck;
  if (recheck && recheck.everyMs > 0 && !ended) {
    interval = setInterval(() => {
      recheck.check().then(
        (why) => why && end(why),
        () => {},
      );
    }, recheck.everyMs);
    interval.unref?.();
  }

  const done = (): IteratorResult<FormattedExecutionResult> => {
    if (last) {
      const value = last;
      last = undefined;
      return { done: false, value };
    }
    finished = true;
    return { done: true, value: undefined };
  };

  return {
    async next() {
      if (finished) return { done: true, value: undefined };
      if (ended) return done();
      let step: IteratorResult<FormattedExecutionResult> | StreamEnd;
      try {
        step = await Promise.race([events.next(), stopped]);
      } catch (error) {
        end(options.endOf(error));
        return done();
      }
      if (ended || !('done' in step)) return done();
      if (step.done) {
        end({ reason: 'complete' });
        return done();
      }
      const refused = await options.charge?.(step.value);
      if (refused) {
        end(refused);
        return done();
      }
      if (ended) return done();
      return step;
    },
    async return() {
      end({ reason: 'client' });
      last = undefined;
      finished = true;
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
