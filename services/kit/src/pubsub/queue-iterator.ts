/**
 * One subscriber's bounded queue as an async iterator. When `maxQueued` values wait unread, the oldest is
 * dropped to make room (a slow consumer loses old events, never blocks the publisher or grows memory).
 * `return()` ends it at once and runs `onEnd` once; `end()` ends it after what is queued is read.
 */
export class QueueIterator<T> implements AsyncIterableIterator<T> {
  readonly #max: number;
  readonly #onEnd: () => void;
  #queue: T[] = [];
  #waiters: ((r: IteratorResult<T>) => void)[] = [];
  #ending = false;
  #done = false;
  #dropped = 0;

  constructor(maxQueued: number, onEnd: () => void = () => {}) {
    if (!Number.isInteger(maxQueued) || maxQueued < 1)
      throw new RangeError(`maxQueued must be a positive integer, got ${String(maxQueued)}`);
    this.#max = maxQueued;
    this.#onEnd = onEnd;
  }

  /** Values dropped because the queue was full. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Whether it has ended (no value will be pushed any more). */
  get ended(): boolean {
    return this.#ending || this.#done;
  }

  /** Hands `value` to a waiting `next()`, or queues it (dropping the oldest when full). */
  push(value: T): void {
    if (this.ended) return;
    const waiter = this.#waiters.shift();
    if (waiter) {
      waiter({ value, done: false });
      return;
    }
    this.#queue.push(value);
    if (this.#queue.length > this.#max) {
      this.#queue.shift();
      this.#dropped++;
    }
  }

  /** Ends after the queued values are read (the publisher side is gone). */
  end(): void {
    if (this.ended) return;
    this.#ending = true;
    if (this.#queue.length === 0) this.#finish();
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#queue.length > 0) {
      const value = this.#queue.shift() as T;
      if (this.#ending && this.#queue.length === 0) this.#finish();
      return Promise.resolve({ value, done: false });
    }
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  return(): Promise<IteratorResult<T>> {
    this.#queue = [];
    this.#finish();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(): Promise<IteratorResult<T>> {
    return this.return();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    this.#ending = true;
    for (const waiter of this.#waiters.splice(0)) waiter({ value: undefined, done: true });
    this.#onEnd();
  }
}
