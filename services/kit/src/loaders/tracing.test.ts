import { context, type Span, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCache } from '../cache/index.ts';
import type { Queryable } from '../db/index.ts';
import { createLoaders, loadOne } from './index.ts';

// A real tracer provider for this test file (vitest runs each file in its own worker, so the global
// provider is this file's alone).
const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
const test = trace.getTracer('test');

/** A fake database that notes which span was active when each statement was sent (where pg's span goes). */
function spyDb() {
  const activeAtQuery: (Span | undefined)[] = [];
  const db: Queryable = {
    async query<R>(_sql: string, params?: readonly unknown[]) {
      activeAtQuery.push(trace.getSpan(context.active()));
      return ((params?.[0] ?? []) as string[]).map((id) => ({ id })) as R[];
    },
  };
  return { db, activeAtQuery };
}

const definitions = {
  byId: loadOne<{ id: string }>({ sql: 'SELECT id FROM t WHERE id = ANY($1)', key: 'id' }),
};

describe('loader batches in a trace', () => {
  beforeAll(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(provider);
  });
  afterAll(async () => {
    await provider.shutdown();
    trace.disable();
    context.disable();
  });
  beforeEach(() => exporter.reset());

  it('makes each batch a child of the span that opened it, and sends its SQL inside the batch span', async () => {
    const { db, activeAtQuery } = spyDb();
    const loaders = createLoaders(definitions, db, { service: 'svc' });
    const execute = test.startSpan('execute');
    const rows = await context.with(trace.setSpan(context.active(), execute), () =>
      Promise.all([loaders.byId.load('1'), loaders.byId.load('2'), loaders.byId.load('3')]),
    );
    execute.end();
    expect(rows).toEqual([{ id: '1' }, { id: '2' }, { id: '3' }]);
    const batch = exporter.getFinishedSpans().find((s) => s.name === 'subgraph.loader.batch')!;
    expect(batch.parentSpanContext?.spanId).toBe(execute.spanContext().spanId);
    expect(batch.spanContext().traceId).toBe(execute.spanContext().traceId);
    expect(batch.attributes).toMatchObject({
      'tollgate.subgraph.name': 'svc',
      'tollgate.dataloader.name': 'byId',
      'tollgate.dataloader.batch.size': 3,
      'tollgate.dataloader.cache.hits': 0,
      'tollgate.dataloader.statements': 1,
    });
    expect(activeAtQuery.map((s) => s?.spanContext().spanId)).toEqual([batch.spanContext().spanId]);
  });

  it('keeps the context of the load() that opened the batch even when the batch runs from elsewhere', async () => {
    const { db } = spyDb();
    const loaders = createLoaders(definitions, db, { service: 'svc' });
    const execute = test.startSpan('execute');
    const other = test.startSpan('other');
    // the load happens in the request's context; whatever context the tick after runs in, the batch
    // belongs to the request that asked
    const pending = context.with(trace.setSpan(context.active(), execute), () => loaders.byId.load('7'));
    await context.with(trace.setSpan(context.active(), other), () => pending);
    execute.end();
    other.end();
    const batch = exporter.getFinishedSpans().find((s) => s.name === 'subgraph.loader.batch')!;
    expect(batch.parentSpanContext?.spanId).toBe(execute.spanContext().spanId);
  });

  it('counts cache hits on the batch span', async () => {
    const { db } = spyDb();
    const cached = {
      byId: loadOne<{ id: string }>({ sql: 'SELECT id FROM t WHERE id = ANY($1)', key: 'id', cache: {} }),
    };
    const cache = createCache();
    const run = async () => {
      const span = test.startSpan('execute');
      const loaders = createLoaders(cached, db, { service: 'svc-cached', cache });
      await context.with(trace.setSpan(context.active(), span), () => loaders.byId.loadMany(['1', '2']));
      span.end();
    };
    await run();
    await run();
    const batches = exporter.getFinishedSpans().filter((s) => s.name === 'subgraph.loader.batch');
    expect(
      batches.map((b) => [
        b.attributes['tollgate.dataloader.cache.hits'],
        b.attributes['tollgate.dataloader.statements'],
      ]),
    ).toEqual([
      [0, 1],
      [2, 0],
    ]);
    await cache.close();
  });

  it('makes no span at all outside a sampled trace', async () => {
    const { db, activeAtQuery } = spyDb();
    const loaders = createLoaders(definitions, db, { service: 'svc' });
    expect(await loaders.byId.load('1')).toEqual({ id: '1' });
    expect(exporter.getFinishedSpans()).toEqual([]);
    expect(activeAtQuery).toEqual([undefined]);
  });
});
