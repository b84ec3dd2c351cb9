/** What decides how many requests run at once: a GradientLimit, or a fixed number. */
export interface ConcurrencyLimit {
  readonly limit: number;
  sample(rttMs: number, inflight: number, now: number): void;
}

/** A fixed limit that ignores latency (`server.admission.enabled: false`). */
export function fixedLimit(limit: number): ConcurrencyLimit {
  return { limit, sample() {} };
}

export interface AdmissionQueueOptions {
  /** Longest wait for a slot while the queue drains now and then (ms). 0: no queue. @default 50 */
  queueTimeoutMs?: number;
  /** Requests waiting at most; one more is refused at once. @default 256 */
  maxQueue?: number;
  /**
   * A queue that has not been empty for `intervalMs` is standing (arrivals outpace service): waits are
   * then cut to `targetMs`, and requests that find no free slot are refused at once until `intervalMs`
   * passes without such a refusal. @default { targetMs: 5, intervalMs: 100 }
   */
  codel?: { targetMs?: number; intervalMs?: number };
}

/** A slot held by a running request; give it back with `finish`. */
export interface Permit {
  readonly startedAt: number;
  /** Requests running when it started, itself included. */
  readonly inflight: number;
}

/** `admission`: refused at once (queue full or off); `queue_timeout`: waited its whole deadline. */
export type QueueRefusal = 'admission' | 'queue_timeout';

export type Offer = { kind: 'admitted'; permit: Permit } | { kind: 'queued' } | { kind: 'refused' };

export interface AdmissionStats {
  limit: number;
  inflight: number;
  queued: number;
  /**
   * Shedding: the queue stood (not empty for codel.intervalMs) within the last interval, so a request
   * that finds no free slot is refused at once, and waiters have codel.targetMs at most.
   */
  standing: boolean;
}

interface Waiter<T> {
  item: T;
  at: number;
}

/**
 * Admission of requests under a concurrency limit with a short queue: a request runs at once while fewer
 * than `limit` run, else waits (FIFO) for a slot until its deadline, else is refused. The deadline is
 * CoDel-like (as Facebook's "Fail at Scale" server queues): `queueTimeoutMs` while the queue empties
 * now and then; once it has stayed non-empty for `codel.intervalMs`, waiters get `codel.targetMs` and a
 * request that finds no free slot is refused at once, until an interval passes with no such refusal
 * (under a steady overload the excess is refused on arrival, never after a wait). Pure: the caller
 * passes the clock, arms the timer (`nextExpiry`) and answers what `expire` and `finish` return.
 */
export class AdmissionQueue<T> {
  readonly #limit: ConcurrencyLimit;
  readonly #now: () => number;
  readonly #timeoutMs: number;
  readonly #maxQueue: number;
  readonly #targetMs: number;
  readonly #intervalMs: number;
  #inflight = 0;
  #queue: Waiter<T>[] = [];
  #head = 0;
  #lastEmpty: number;
  /** Until then (the clock's time), a request that finds no free slot is refused at once. */
  #shedUntil = Number.NEGATIVE_INFINITY;

  constructor(limit: ConcurrencyLimit, options: AdmissionQueueOptions, now: () => number) {
    this.#limit = limit;
    this.#now = now;
    this.#timeoutMs = nonNegative(options.queueTimeoutMs ?? 50, 'queueTimeoutMs');
    this.#maxQueue = this.#timeoutMs === 0 ? 0 : nonNegative(options.maxQueue ?? 256, 'maxQueue');
    this.#targetMs = Math.min(nonNegative(options.codel?.targetMs ?? 5, 'codel.targetMs'), this.#timeoutMs);
    this.#intervalMs = nonNegative(options.codel?.intervalMs ?? 100, 'codel.intervalMs');
    this.#lastEmpty = now();
  }

  get stats(): AdmissionStats {
    const now = this.#now();
    return {
      limit: this.#limit.limit,
      inflight: this.#inflight,
      queued: this.#length,
      standing: this.#shedding(now),
    };
  }

  /** A new request: runs now, waits, or is refused (`admission`). */
  offer(item: T): Offer {
    const now = this.#now();
    this.#noteEmpty(now);
    if (this.#length === 0 && this.#inflight < this.#limit.limit)
      return { kind: 'admitted', permit: this.#start(now) };
    // Overloaded: refuse now rather than after a wait that would end the same way, and stay so while
    // refusals keep coming (the queue then stays empty, which alone would look like recovery).
    if (this.#shedding(now)) {
      this.#shedUntil = now + this.#intervalMs;
      return { kind: 'refused' };
    }
    if (this.#length >= this.#maxQueue) return { kind: 'refused' };
    this.#queue.push({ item, at: now });
    return { kind: 'queued' };
  }

  /**
   * A running request ended: its latency feeds the limit when it completed (`ok`: not cut by the
   * client or an error of its own). Returns the waiters that run now, with their permits.
   */
  finish(permit: Permit, ok: boolean): { item: T; permit: Permit }[] {
    const now = this.#now();
    this.#inflight--;
    if (ok) this.#limit.sample(now - permit.startedAt, permit.inflight, now);
    const started: { item: T; permit: Permit }[] = [];
    while (this.#length > 0 && this.#inflight < this.#limit.limit) {
      const waiter = this.#shift();
      if (waiter) started.push({ item: waiter.item, permit: this.#start(now) });
    }
    this.#noteEmpty(now);
    return started;
  }

  /** A waiter that went away (its client closed): out of the queue. False if it was not waiting. */
  cancel(item: T): boolean {
    for (let i = this.#head; i < this.#queue.length; i++) {
      if (this.#queue[i]?.item === item) {
        this.#queue.splice(i, 1);
        this.#noteEmpty(this.#now());
        return true;
      }
    }
    return false;
  }

  /** Waiters past their deadline, out of the queue: answer each `queue_timeout`. */
  expire(): T[] {
    const now = this.#now();
    const limit = this.#deadlineMs(now);
    const expired: T[] = [];
    for (;;) {
      const head = this.#queue[this.#head];
      if (!head || now - head.at < limit) break;
      this.#shift();
      expired.push(head.item);
    }
    this.#noteEmpty(now);
    return expired;
  }

  /** When the oldest waiter's deadline falls (ms, the clock's time), or undefined with none waiting. */
  nextExpiry(): number | undefined {
    const head = this.#queue[this.#head];
    if (!head) return undefined;
    const now = this.#now();
    if (this.#shedding(now)) return head.at + this.#targetMs;
    // it may turn standing before the full deadline, and then the short one applies
    const turns = this.#lastEmpty + this.#intervalMs;
    return Math.min(head.at + this.#timeoutMs, Math.max(turns, head.at + this.#targetMs));
  }

  get #length(): number {
    return this.#queue.length - this.#head;
  }

  #standing(now: number): boolean {
    return this.#length > 0 && now - this.#lastEmpty >= this.#intervalMs;
  }

  #shedding(now: number): boolean {
    if (this.#standing(now)) this.#shedUntil = Math.max(this.#shedUntil, now + this.#intervalMs);
    return now < this.#shedUntil;
  }

  #deadlineMs(now: number): number {
    return this.#shedding(now) ? this.#targetMs : this.#timeoutMs;
  }

  #noteEmpty(now: number): void {
    if (this.#length === 0) {
      this.#lastEmpty = now;
      this.#queue = [];
      this.#head = 0;
    }
  }

  #shift(): Waiter<T> | undefined {
    const waiter = this.#queue[this.#head];
    this.#queue[this.#head] = undefined as unknown as Waiter<T>;
    this.#head++;
    // compact now and then so a long-standing queue does not keep every slot it ever had
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    return waiter;
  }

  #start(now: number): Permit {
    this.#inflight++;
    return { startedAt: now, inflight: this.#inflight };
  }
}

function nonNegative(n: number, name: string): number {
  if (!(n >= 0) || !Number.isFinite(n)) throw new RangeError(`${name} must be a number ≥ 0, got ${n}`);
  return n;
}
