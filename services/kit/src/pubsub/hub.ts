import { QueueIterator } from './queue-iterator.ts';

export interface HubSubscribeOptions<T> {
  /** Only payloads it returns true for are queued (a filter that throws skips the payload). */
  filter?: (payload: T) => boolean;
}

interface Subscriber {
  filter: ((payload: unknown) => boolean) | undefined;
  iterator: QueueIterator<unknown>;
}

/**
 * The local side of a pub/sub: subscribers by topic, fan-out of each delivered message to them, and a
 * signal when the first subscriber arrives and the last one leaves (so a backend polls only while needed).
 */
export class Hub {
  readonly #maxQueued: number;
  readonly #onActive: (active: boolean) => void;
  readonly #onError: (err: Error) => void;
  readonly #topics = new Map<string, Set<Subscriber>>();
  #count = 0;
  #closed = false;

  constructor(options: {
    maxQueued: number;
    onActive?: (active: boolean) => void;
    onError?: (err: Error) => void;
  }) {
    this.#maxQueued = options.maxQueued;
    this.#onActive = options.onActive ?? (() => {});
    this.#onError = options.onError ?? (() => {});
  }

  /** Open subscriptions across topics. */
  get size(): number {
    return this.#count;
  }

  subscribe<T>(topic: string, options: HubSubscribeOptions<T> = {}): QueueIterator<T> {
    const set = this.#topics.get(topic) ?? new Set<Subscriber>();
    const subscriber: Subscriber = {
      filter: options.filter as ((payload: unknown) => boolean) | undefined,
      iterator: new QueueIterator<unknown>(this.#maxQueued, () => {
        if (!set.delete(subscriber)) return;
        if (set.size === 0) this.#topics.delete(topic);
        if (--this.#count === 0 && !this.#closed) this.#onActive(false);
      }),
    };
    if (this.#closed) {
      subscriber.iterator.end();
      return subscriber.iterator as QueueIterator<T>;
    }
    set.add(subscriber);
    this.#topics.set(topic, set);
    if (++this.#count === 1) this.#onActive(true);
    return subscriber.iterator as QueueIterator<T>;
  }

  /** Whether anyone here listens to `topic` (a backend can skip decoding the rest). */
  has(topic: string): boolean {
    return this.#topics.has(topic);
  }

  /** Hands `payload` to every subscriber of `topic` whose filter takes it. Payloads are shared: read-only. */
  deliver(topic: string, payload: unknown): void {
    const set = this.#topics.get(topic);
    if (!set) return;
    for (const { filter, iterator } of [...set]) {
      let take = true;
      try {
        take = filter === undefined || filter(payload);
      } catch (err) {
        take = false;
        this.#onError(err instanceof Error ? err : new Error(String(err)));
      }
      if (take) iterator.push(payload);
    }
  }

  /** Ends every subscription (each after what it has queued) and refuses new ones. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const set of [...this.#topics.values()]) for (const s of [...set]) s.iterator.end();
  }
}
