import type { IncrementalDelivery, IncrementalStream, SubsequentPayload } from './types.ts';

/**
 * The hand-over between the executor and the HTTP layer.
 *
 * Apollo Server does not give the executor the context object the HTTP layer built: it gives each
 * operation a shallow copy (`Object.assign` onto an object with the same prototype), one copy per
 * operation of a batch. A WeakMap keyed by the context would therefore never be found again. Instead the
 * HTTP layer prepares its context with an enumerable getter under a private symbol: every copy reads it
 * once, in the order Apollo copies (the batch's order: copies are made synchronously as each operation
 * starts), and gets its own slot, shared by reference with the holder the HTTP layer keeps.
 */
const SLOT = Symbol('tollgate.incremental.slot');

interface Slot {
  readonly ordinal: number;
  readonly delivery: IncrementalDelivery;
  streams: IncrementalStream[];
}
interface Holder {
  slots: Slot[];
}

const holders = new WeakMap<object, Holder>();
/** Streams attached to a context the HTTP layer never prepared (e.g. `server.executeOperation`). */
const loose = new WeakMap<object, IncrementalStream[]>();

/** Called by the HTTP layer on the context it returns to Apollo Server, before any execution. */
export function prepareIncremental(context: object, delivery: IncrementalDelivery): void {
  const holder: Holder = { slots: [] };
  holders.set(context, holder);
  Object.defineProperty(context, SLOT, {
    enumerable: true,
    configurable: true,
    get(): Slot {
      const slot: Slot = { ordinal: holder.slots.length, delivery, streams: [] };
      holder.slots.push(slot);
      return slot;
    },
  });
}

function slotOf(context: object): Slot | undefined {
  const slot = (context as { [SLOT]?: unknown })[SLOT];
  return slot && typeof slot === 'object' ? (slot as Slot) : undefined;
}

/**
 * How the rest of an operation will reach the client (see IncrementalDelivery), read from the context
 * the executor was given; undefined when no HTTP layer prepared it (nobody will take a stream).
 */
export function incrementalDelivery(context: object): IncrementalDelivery | undefined {
  const slot = (context as { [SLOT]?: unknown })[SLOT];
  return slot && typeof slot === 'object' ? (slot as Slot).delivery : undefined;
}

/**
 * Called by the executor, before it returns the initial result, with the rest of the operation. Call it
 * at most once per operation (a second call is combined with the first: payloads interleave, one final
 * `hasNext: false`). Whoever takes the stream owns it: reads it to the end or calls `return()`.
 */
export function attachIncremental(context: object, stream: IncrementalStream): void {
  const slot = slotOf(context);
  if (slot) {
    slot.streams.push(stream);
    return;
  }
  const list = loose.get(context) ?? [];
  list.push(stream);
  loose.set(context, list);
}

/**
 * Called by the HTTP layer after Apollo Server answered: the stream attached for the (single) operation
 * run with this context, or undefined. Takes it: a second call returns undefined.
 */
export function takeIncremental(context: object): IncrementalStream | undefined {
  const holder = holders.get(context);
  let streams: IncrementalStream[];
  if (holder) {
    streams = holder.slots.flatMap((s) => s.streams.splice(0));
  } else {
    streams = loose.get(context) ?? [];
    loose.delete(context);
  }
  if (streams.length === 0) return undefined;
  return streams.length === 1 ? streams[0] : combineStreams(streams);
}

/**
 * For a batched request: the stream of each operation by its index in the batch, and how many operation
 * copies of the context Apollo Server made (which must equal the batch's length for the indices to be
 * trusted). Takes the streams.
 */
export function takeIncrementalPerOperation(context: object): {
  operations: number;
  streams: Map<number, IncrementalStream>;
} {
  const holder = holders.get(context);
  const streams = new Map<number, IncrementalStream>();
  if (!holder) return { operations: 0, streams };
  for (const slot of holder.slots) {
    const taken = slot.streams.splice(0);
    if (taken.length) streams.set(slot.ordinal, taken.length === 1 ? taken[0]! : combineStreams(taken));
  }
  return { operations: holder.slots.length, streams };
}

/** Cancels a stream, ignoring what its `return()` does (resolves, rejects or is missing). */
export function cancelStream(stream: IncrementalStream): void {
  try {
    void Promise.resolve(stream.return?.()).catch(() => {});
  } catch {
    // a throwing return(): nothing more to cancel
  }
}

/**
 * One stream out of several: payloads in the order they arrive, `hasNext: true` until the last stream
 * ends. `return()` cancels every stream still open, at once (not queued behind a pending `next()`).
 */
export function combineStreams(streams: readonly IncrementalStream[]): IncrementalStream {
  const open = new Set<number>(streams.map((_, i) => i));
  const pending = new Map<number, Promise<{ i: number; r: IteratorResult<SubsequentPayload> }>>();
  let cancelled = false;
  const pull = (i: number) => {
    if (!pending.has(i))
      pending.set(
        i,
        streams[i]!.next().then((r) => ({ i, r })),
      );
  };
  const iterator: IncrementalStream = {
    async next(): Promise<IteratorResult<SubsequentPayload>> {
      while (!cancelled && open.size) {
        for (const i of open) pull(i);
        const { i, r } = await Promise.race(pending.values());
        pending.delete(i);
        if (cancelled) break;
        if (r.done || !r.value.hasNext) open.delete(i);
        if (r.done) {
          if (open.size === 0) return { done: false, value: { hasNext: false } };
          continue;
        }
        return { done: false, value: { ...r.value, hasNext: open.size > 0 } };
      }
      return { done: true, value: undefined };
    },
    async return(): Promise<IteratorResult<SubsequentPayload>> {
      cancelled = true;
      for (const i of open) cancelStream(streams[i]!);
      open.clear();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
