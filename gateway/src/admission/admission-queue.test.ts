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

  it('once the queue has stood for codel.intervalMs: waits cut to codel.targetMs, arrivals refused at once', async () => {
    const { q, clock, admit } = setup(1, { queueTimeoutMs: 50, codel: { targetMs: 5, intervalMs: 100 } });
    admit('a');
    // arrivals every 2 ms for 300 ms, none served
    const expired: { item: string; waited: number }[] = [];
    const refusedAt: number[] = [];
    const arrived = new Map<string, number>();
    for (let i = 0; i < 150; i++) {
      clock.t += 2;
      for (const item of q.expire()) expired.push({ item, waited: clock.t - arrived.get(item)! });
      arrived.set(`r${i}`, clock.t);
      if (q.offer(`r${i}`).kind === 'refused') refusedAt.push(clock.t - 1_000);
    }
    // young, the queue held its waiters up to the full 50 ms; standing from 100 ms on, it refused every
    // arrival at once and gave its waiters 5 ms at most
    expect(Math.min(...refusedAt)).toBeGreaterThanOrEqual(100);
    expect(Math.min(...refusedAt)).toBeLessThanOrEqual(104);
    expect(refusedAt.length).toBe(150 - Math.min(...refusedAt) / 2 + 1);
    expect(Math.max(...expired.map((r) => r.waited))).toBeLessThanOrEqual(50);
    expect(q.stats).toMatchObject({ standing: true, queued: 0 });
  });

  it('queues again once an interval has passed without a refusal', () => {
    const { q, clock, admit } = setup(1, { codel: { targetMs: 5, intervalMs: 100 } });
    const a = admit('a');
    q.offer('b');
    clock.t += 101;
    expect(q.stats.standing).toBe(true);
    expect(q.offer('c').kind).toBe('refused');
    const [b] = q.finish(a, true);
    expect(b?.item).toBe('b');
    clock.t += 50;
    expect(q.offer('d').kind).toBe('refused'); // still shedding: a refusal 50 ms ago
    clock.t += 101;
    expect(q.stats.standing).toBe(false);
    expect(q.offer('e').kind).toBe('queued');
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
