import { describe, expect, it } from 'vitest';
import { AdmissionQueue, type AdmissionQueueOptions, fixedLimit, type Permit } from './admission-queue.ts';

function setup(limit: number, options: AdmissionQueueOptions = {}) {
  const clock = { t: 1_000 };
  const samples: number[] = [];
  const base = fixedLimit(limit);
  const q = new AdmissionQueue<string>(
    {
      get limit() {
        return base.limit;
      },
      sample: (rtt) => void samples.push(rtt),
    },
    options,
    () => clock.t,
  );
  const admit = (item: string): Permit => {
    const offer = q.offer(item);
    if (offer.kind !== 'admitted') throw new Error(`${item} was ${offer.kind}`);
    return offer.permit;
  };
  return { q, clock, samples, admit };
}

describe('AdmissionQueue', () => {
  it('admits up to the limit at once, queues the rest, and hands a freed slot to the oldest waiter', () => {
    const { q, clock, admit, samples } = setup(2);
    const a = admit('a');
    admit('b');
    expect(q.offer('c')).toEqual({ kind: 'queued' });
    expect(q.offer('d')).toEqual({ kind: 'queued' });
    expect(q.stats).toMatchObject({ limit: 2, inflight: 2, queued: 2 });
    clock.t += 7;
    const started = q.finish(a, true);
    expect(started.map((s) => s.item)).toEqual(['c']);
    expect(started[0]!.permit.startedAt).toBe(clock.t);
    expect(samples).toEqual([7]); // the latency fed to the limit, queue time not included
    expect(q.stats).toMatchObject({ inflight: 2, queued: 1 });
  });

  it('does not feed the limit the latency of a request cut short', () => {
    const { q, admit, samples } = setup(1);
    q.finish(admit('a'), false);
    expect(samples).toEqual([]);
  });

  it('refuses a waiter past its deadline (queueTimeoutMs) with queue_timeout', () => {
    const { q, clock, admit } = setup(1, { queueTimeoutMs: 50 });
    admit('a');
    q.offer('b');
    clock.t += 20;
    q.offer('c');
    expect(q.nextExpiry()).toBe(1_050);
    clock.t = 1_049;
    expect(q.expire()).toEqual([]);
    clock.t = 1_050;
    expect(q.expire()).toEqual(['b']);
    clock.t = 1_070;
    expect(q.expire()).toEqual(['c']);
    expect(q.stats.queued).toBe(0);
    expect(q.nextExpiry()).toBeUndefined();
  });

  it('cuts waits to codel.targetMs once the queue has stood for codel.intervalMs', () => {
    const { q, clock, admit } = setup(1, { queueTimeoutMs: 50, codel: { targetMs: 5, intervalMs: 100 } });
    admit('a');
    // arrivals every 2 ms for 200 ms, none served: the queue never empties
    const refused: { item: string; waited: number }[] = [];
    const arrived = new Map<string, number>();
    for (let i = 0; i < 100; i++) {
      clock.t += 2;
      for (const item of q.expire()) refused.push({ item, waited: clock.t - arrived.get(item)! });
      arrived.set(`r${i}`, clock.t);
      q.offer(`r${i}`);
    }
    expect(q.stats.standing).toBe(true);
    // while it was young, waits ran to the full 50 ms; once standing, to about 5 ms
    const late = refused.filter((r) => arrived.get(r.item)! > 1_000 + 110);
    expect(late.length).toBeGreaterThan(30);
    for (const r of late) expect(r.waited).toBeLessThanOrEqual(6);
    expect(Math.max(...refused.map((r) => r.waited))).toBeLessThanOrEqual(50);
    expect(q.nextExpiry()).toBeLessThanOrEqual(clock.t + 5);
  });

  it('leaves standing once the queue empties', () => {
    const { q, clock, admit } = setup(1, { codel: { targetMs: 5, intervalMs: 100 } });
    const a = admit('a');
    q.offer('b');
    clock.t += 101;
    expect(q.stats.standing).toBe(true);
    const [b] = q.finish(a, true);
    expect(b?.item).toBe('b');
    expect(q.stats.standing).toBe(false);
    q.offer('c');
    clock.t += 20;
    expect(q.expire()).toEqual([]); // the full deadline again
  });

  it('refuses at once when the queue is full, or with no queue at all', () => {
    const full = setup(1, { maxQueue: 1 });
    full.admit('a');
    expect(full.q.offer('b').kind).toBe('queued');
    expect(full.q.offer('c').kind).toBe('refused');
    const none = setup(1, { queueTimeoutMs: 0 });
    none.admit('a');
    expect(none.q.offer('b').kind).toBe('refused');
  });

  it('takes a waiter whose client went away out of the queue', () => {
    const { q, admit } = setup(1);
    const a = admit('a');
    q.offer('b');
    q.offer('c');
    expect(q.cancel('b')).toBe(true);
    expect(q.cancel('b')).toBe(false);
    expect(q.finish(a, true).map((s) => s.item)).toEqual(['c']);
  });

  it('admits nobody new while more run than a limit that just shrank', () => {
    let limit = 3;
    const clock = { t: 0 };
    const q = new AdmissionQueue<string>(
      {
        get limit() {
          return limit;
        },
        sample() {},
      },
      {},
      () => clock.t,
    );
    const permits = ['a', 'b', 'c'].map((i) => (q.offer(i) as { permit: Permit }).permit);
    q.offer('d');
    limit = 1;
    expect(q.finish(permits[0]!, true)).toEqual([]);
    expect(q.finish(permits[1]!, true)).toEqual([]);
    expect(q.finish(permits[2]!, true).map((s) => s.item)).toEqual(['d']);
  });

  it.each([
    [{ queueTimeoutMs: -1 }, /queueTimeoutMs must be a number ≥ 0/],
    [{ maxQueue: Number.NaN }, /maxQueue must be a number ≥ 0/],
  ])('refuses bad options %j', (options, message) => {
    expect(() => new AdmissionQueue(fixedLimit(1), options, () => 0)).toThrow(message);
  });
});
