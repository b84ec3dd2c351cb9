import { UpstreamError } from './errors.ts';

/**
 * One subscriber's events: pushed by the upstream, pulled by the subscriber, at most `max` waiting. A
 * subscriber that lets more wait is ended with SLOW_CONSUMER (the push returns false) rather than buffered
 * without bound. `return()` (the subscriber leaves) calls `onLeave` once.
 */
export class EventQueue<T> implements AsyncIterableIterator<T> {
  readonly #max: number;
  readonly #owner: { leave(queue: EventQueue<T>): void } | undefined;
  #items: T[] = [];
  #waiter: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | undefined;
  #ended = false;
  #error: unknown;
  #left = false;

  constructor(max: number, owner?: { leave(queue: EventQueue<T>): void }) {
    this.#max = max;
    this.#owner = owner;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Hands an event to the subscriber; false when it was too far behind and is now ended. */
  push(item: T): boolean {
    if (this.#ended) return false;
    const waiter = this.#waiter;
    if (waiter) {
      this.#waiter = undefined;
      waiter.resolve({ done: false, value: item });
      return true;
    }
    if (this.#items.length >= this.#max) {
      this.#items = [];
      this.end(
        new UpstreamError(
          'SLOW_CONSUMER',
          `This subscription fell more than ${this.#max} events behind (subscriptions.maxBufferedEvents) and was ended`,
        ),
      );
      return false;
    }
    this.#items.push(item);
    return true;
  }

  /** No more events: the subscriber gets what is waiting, then done (or `error`, thrown). */
  end(error?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    if (!waiter) return;
    if (error === undefined) waiter.resolve({ done: true, value: undefined });
    else waiter.reject(error);
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#items.length) return Promise.resolve({ done: false, value: this.#items.shift()! });
    if (this.#ended) {
      const error = this.#error;
      this.#error = undefined;
      return error === undefined ? Promise.resolve({ done: true, value: undefined }) : Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  async return(): Promise<IteratorResult<T>> {
    this.#items = [];
    this.end();
    if (!this.#left) {
      this.#left = true;
      this.#owner?.leave(this);
    }
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
