import type { FormattedExecutionResult } from 'graphql';
import type { TransportEndReason } from './types.ts';

/** A started stream as transports drive it: an async generator whose `return()` takes effect at once. */
export interface GuardedStream extends AsyncGenerator<FormattedExecutionResult, undefined, undefined> {
  /** Stops the stream for `reason` (no-op once it ended): a pending `next()` resolves done, the source is returned. */
  stop(reason: TransportEndReason): void;
  readonly ended: boolean;
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/**
 * Wraps a started stream so that stopping it never waits for its next event: an async generator's own
 * `return()` queues behind a pending `next()`, so a client that went away would hold an idle upstream
 * open until its next event. `onEnd` is called exactly once, with why the stream ended; `reasonOnReturn`
 * says why when the consumer calls `return()` (graphql-ws does on `complete` and on socket close).
 */
export function guardStream(
  source: AsyncIterator<FormattedExecutionResult>,
  onEnd: (reason: TransportEndReason) => void,
  reasonOnReturn: () => TransportEndReason = () => 'client',
): GuardedStream {
  let ended = false;
  let release: (r: IteratorResult<FormattedExecutionResult, undefined>) => void = () => {};
  const stopped = new Promise<IteratorResult<FormattedExecutionResult, undefined>>((resolve) => {
    release = resolve;
  });
  const end = (reason: TransportEndReason): boolean => {
    if (ended) return false;
    ended = true;
    onEnd(reason);
    return true;
  };
  const stop = (reason: TransportEndReason) => {
    if (!end(reason)) return;
    release(DONE);
    // not awaited: a source stuck in an await must not hold up the transport
    try {
      void Promise.resolve(source.return?.()).catch(() => {});
    } catch {
      // a throwing return() is the source's problem, not the client's
    }
  };
  const stream: GuardedStream = {
    get ended() {
      return ended;
    },
    stop,
    async next() {
      if (ended) return DONE;
      const pulled = source.next().then(
        (r): IteratorResult<FormattedExecutionResult, undefined> => {
          if (r.done) {
            end('complete');
            return DONE;
          }
          return ended ? DONE : r;
        },
        (error: unknown) => {
          end('error');
          throw error;
        },
      );
      return Promise.race([pulled, stopped]);
    },
    async return() {
      stop(reasonOnReturn());
      return DONE;
    },
    async throw() {
      stop('error');
      return DONE;
    },
    [Symbol.asyncIterator]() {
      return stream;
    },
  };
  return stream;
}
