import { describe, expect, it } from 'vitest';
import {
  attachIncremental,
  combineStreams,
  incrementalDelivery,
  prepareIncremental,
  takeIncremental,
  takeIncrementalPerOperation,
} from './attach.ts';
import type { IncrementalStream, SubsequentPayload } from './types.ts';

function streamOf(payloads: SubsequentPayload[]): IncrementalStream & { returned: boolean } {
  const it = (async function* () {
    yield* payloads;
  })();
  const stream = {
    returned: false,
    next: () => it.next(),
    async return() {
      stream.returned = true;
      return it.return(undefined);
    },
    [Symbol.asyncIterator]() {
      return stream;
    },
  };
  return stream;
}

// What Apollo Server does to the context for each operation (a shallow copy, same prototype).
const copy = (o: object) => Object.assign(Object.create(Object.getPrototypeOf(o)), o) as object;

async function all(stream: IncrementalStream): Promise<SubsequentPayload[]> {
  const out: SubsequentPayload[] = [];
  for await (const p of stream) out.push(p);
  return out;
}

describe('attach / take', () => {
  it('finds what the executor attached to Apollo’s copy of the context', () => {
    const context = { principal: 'p' };
    prepareIncremental(context, 'multipart');
    const operation = copy(context);
    expect(incrementalDelivery(operation)).toBe('multipart');
    const stream = streamOf([]);
    attachIncremental(operation, stream);
    expect(takeIncremental(context)).toBe(stream);
    expect(takeIncremental(context)).toBeUndefined();
  });

  it('works on a context nobody prepared, by identity', () => {
    const context = {};
    const stream = streamOf([]);
    expect(incrementalDelivery(context)).toBeUndefined();
    attachIncremental(context, stream);
    expect(takeIncremental(context)).toBe(stream);
    expect(takeIncremental({})).toBeUndefined();
  });

  it('matches streams to the operations of a batch by copy order', () => {
    const context = {};
    prepareIncremental(context, 'batch');
    const ops = [copy(context), copy(context), copy(context)];
    const a = streamOf([]);
    const c = streamOf([]);
    attachIncremental(ops[2]!, c);
    attachIncremental(ops[0]!, a);
    const { operations, streams } = takeIncrementalPerOperation(context);
    expect(operations).toBe(3);
    expect([...streams.entries()].sort()).toEqual([
      [0, a],
      [2, c],
    ]);
  });
});

describe('combineStreams', () => {
  it('yields every payload with hasNext true until the last stream ends', async () => {
    const combined = combineStreams([
      streamOf([{ incremental: [{ data: { a: 1 }, path: [] }], hasNext: false }]),
      streamOf([
        { incremental: [{ data: { b: 1 }, path: [] }], hasNext: true },
        { incremental: [{ data: { c: 1 }, path: [] }], hasNext: false },
      ]),
    ]);
    const payloads = await all(combined);
    expect(payloads).toHaveLength(3);
    expect(payloads.map((p) => p.hasNext)).toEqual([true, true, false]);
    expect(payloads.flatMap((p) => p.incremental?.map((i) => Object.keys(i.data!)[0]))).toEqual(
      expect.arrayContaining(['a', 'b', 'c']),
    );
  });

  it('cancels every open stream on return()', async () => {
    const a = streamOf([{ hasNext: true }, { hasNext: false }]);
    const b = streamOf([{ hasNext: true }, { hasNext: false }]);
    const combined = combineStreams([a, b]);
    await combined.next();
    await combined.return?.();
    expect(a.returned && b.returned).toBe(true);
    expect(await combined.next()).toEqual({ done: true, value: undefined });
  });
});
