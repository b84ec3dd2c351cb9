import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  AlwaysOffSampler,
  InMemorySpanExporter,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AccessLogEntry, traceRequests, wantsTrace } from './request.ts';
import { annotateRequest, outcomeOf, setAnswerStatus, traceparentOf, withSpan } from './spans.ts';
import { DebugSampler } from './tracing.ts';

// A real tracer provider for this file (each test file runs in its own worker): parent-based, never
// sampling a root on its own (ratio 0), so the tests choose with the incoming traceparent or the debug header.
const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({
  sampler: new DebugSampler(new ParentBasedSampler({ root: new AlwaysOffSampler() })),
  spanProcessors: [new SimpleSpanProcessor({ exporter })],
});

describe('traceRequests', () => {
  let server: Server;
  let base: string;
  const log: AccessLogEntry[] = [];

  beforeAll(async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(provider);
    const handler = traceRequests(
      async (req, res) => {
        if (req.url?.startsWith('/graphql')) {
          annotateRequest(req, {
            operation: 'Top',
            operationType: 'query',
            principal: 'alice',
            costEstimated: 5,
          });
          await withSpan('gateway.child', async () => {});
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      },
      { debugHeader: 'tollgate-debug', accessLog: (e) => log.push(e) },
    );
    server = createServer((req, res) => void handler(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    await provider.shutdown();
    trace.disable();
    propagation.disable();
    context.disable();
  });
  beforeEach(() => {
    exporter.reset();
    log.length = 0;
  });

  it("continues the caller's sampled trace: server span, child spans, traceparent and facts as attributes", async () => {
    const parent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const res = await fetch(`${base}/graphql`, { method: 'POST', headers: { traceparent: parent } });
    await res.text();
    const answered = res.headers.get('traceparent')!;
    expect(answered).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
    await new Promise((r) => setTimeout(r, 20));
    const spans = exporter.getFinishedSpans();
    const serverSpan = spans.find((s) => s.name === 'POST /graphql')!;
    expect(serverSpan.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    expect(answered.split('-')[2]).toBe(serverSpan.spanContext().spanId);
    expect(serverSpan.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.route': '/graphql',
      'http.response.status_code': 200,
      'graphql.operation.name': 'Top',
      'enduser.id': 'alice',
      'tollgate.cost.estimated': 5,
    });
    expect(spans.find((s) => s.name === 'gateway.child')?.parentSpanContext?.spanId).toBe(
      serverSpan.spanContext().spanId,
    );
    expect(log).toEqual([
      expect.objectContaining({
        method: 'POST',
        path: '/graphql',
        status: 200,
        operation: 'Top',
        principal: 'alice',
      }),
    ]);
  });

  it('answers an unsampled traceparent and records nothing when the sampler says no', async () => {
    const res = await fetch(`${base}/graphql`, { method: 'POST' });
    await res.text();
    expect(res.headers.get('traceparent')).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    await new Promise((r) => setTimeout(r, 20));
    expect(exporter.getFinishedSpans()).toEqual([]);
    // the access log does not depend on sampling
    expect(log).toHaveLength(1);
  });

  it('samples a request carrying the debug header whatever the sampler says', async () => {
    const res = await fetch(`${base}/graphql`, { method: 'POST', headers: { 'tollgate-debug': 'trace' } });
    await res.text();
    const traceId = res.headers.get('traceparent')!.split('-')[1];
    expect(res.headers.get('traceparent')).toMatch(/-01$/);
    await new Promise((r) => setTimeout(r, 20));
    expect(exporter.getFinishedSpans().map((s) => [s.name, s.spanContext().traceId])).toEqual([
      ['gateway.child', traceId],
      ['POST /graphql', traceId],
    ]);
  });

  it('leaves health and metrics routes alone', async () => {
    const res = await fetch(`${base}/health/live`);
    await res.text();
    expect(res.headers.get('traceparent')).toBeNull();
    expect(log).toEqual([]);
  });
});

describe('the status of a request span (HTTP server conventions, our GraphQL rule)', () => {
  const failedAnswer = {
    data: null,
    errors: [{ message: 'x', extensions: { code: 'SUBGRAPH_UNAVAILABLE' } }],
  };
  const partialAnswer = { data: { a: 1, b: null }, errors: [{ message: 'x' }, { message: 'y' }] };
  it.each([
    ['a 200 with data', 200, { data: { a: 1 } }, 0, undefined],
    ['a 200 with no data and errors', 200, failedAnswer, 2, 'SUBGRAPH_UNAVAILABLE'],
    ['a 200 with data and errors (partial)', 200, partialAnswer, 0, undefined],
    [
      'a 400 with no data',
      400,
      { errors: [{ message: 'bad', extensions: { code: 'BAD_REQUEST' } }] },
      0,
      undefined,
    ],
    [
      'a 429',
      429,
      { errors: [{ message: 'slow down', extensions: { code: 'RATE_LIMITED' } }] },
      0,
      undefined,
    ],
    ['a 503 with a code', 503, failedAnswer, 2, 'SUBGRAPH_UNAVAILABLE'],
    ['a 500 with no body read', 500, undefined, 2, '500'],
  ] as const)('%s (%i) → span status %i, error.type %s', (_, status, answer, code, type) => {
    const spans = new InMemorySpanExporter();
    const own = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: spans })] });
    const span = own.getTracer('t').startSpan('POST /graphql');
    setAnswerStatus(span, status, answer ? outcomeOf(answer) : undefined);
    span.end();
    const [out] = spans.getFinishedSpans();
    expect(out!.status.code).toBe(code);
    expect(out!.attributes['error.type']).toBe(type);
  });

  it('counts the errors of an answer, and sees none in an answer without them', () => {
    expect(outcomeOf(partialAnswer)).toEqual({ errors: 2, failed: false });
    expect(outcomeOf(failedAnswer)).toEqual({ errors: 1, failed: true, code: 'SUBGRAPH_UNAVAILABLE' });
    expect(outcomeOf({ data: {} })).toBeUndefined();
  });
});

describe('helpers', () => {
  it.each([
    ['trace', true],
    ['TRACE', true],
    ['plan, trace', true],
    ['', false],
    [undefined, false],
    ['1', false],
  ])('wantsTrace(%j) is %s', (value, expected) => {
    expect(wantsTrace(value)).toBe(expected);
  });

  it('formats a traceparent, and none for an invalid span context', () => {
    expect(traceparentOf({ traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 1 })).toBe(
      `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`,
    );
    expect(traceparentOf({ traceId: '0'.repeat(32), spanId: '0'.repeat(16), traceFlags: 0 })).toBeUndefined();
  });
});
