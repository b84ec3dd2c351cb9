import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  AlwaysOffSampler,
  InMemorySpanExporter,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ReplicaDataSource } from './data-source.ts';
import { ReplicaPool } from './replica-pool.ts';

// What a replica receives from the pool: the W3C trace context of the attempt span and the caller's
// baggage, sampled or not. A real tracer provider for this file (each test file has its own worker).
const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({
  sampler: new ParentBasedSampler({ root: new AlwaysOffSampler() }),
  spanProcessors: [new SimpleSpanProcessor({ exporter })],
});
const test = trace.getTracer('test');

describe('trace propagation to replicas', () => {
  let server: Server;
  let url: string;
  const received: IncomingHttpHeaders[] = [];
  let failNext = 0;
  let pool: ReplicaPool;
  let other: Server;
  let otherUrl: string;

  const replica = () =>
    createServer((req, res) => {
      received.push(req.headers);
      req.resume();
      req.on('end', () => {
        const status = failNext-- > 0 ? 503 : 200;
        res.writeHead(status, { 'content-type': 'application/json' }).end('{"data":{"ok":true}}');
      });
    });

  beforeAll(async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(
      new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
    );
    trace.setGlobalTracerProvider(provider);
    server = replica();
    other = replica();
    await Promise.all([
      new Promise<void>((r) => server.listen(0, '127.0.0.1', r)),
      new Promise<void>((r) => other.listen(0, '127.0.0.1', r)),
    ]);
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
    otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}/graphql`;
    pool = new ReplicaPool('products', [url, otherUrl], {
      strategy: 'round_robin',
      healthCheck: { intervalMs: 0 },
      retry: { backoffBaseMs: 0 },
    });
  });
  afterAll(async () => {
    await pool.close();
    await Promise.all([new Promise((r) => server.close(r)), new Promise((r) => other.close(r))]);
    await provider.shutdown();
    trace.disable();
    propagation.disable();
    context.disable();
  });
  beforeEach(() => {
    received.length = 0;
    exporter.reset();
  });

  const fetchOnce = () =>
    new ReplicaDataSource({ pool }).process({
      kind: 'incoming operation',
      request: { query: '{ ok }' },
      context: {},
    } as never);

  it("sends the attempt span as the parent, with the caller's baggage, when the request is sampled", async () => {
    const caller = propagation.extract(ROOT_CONTEXT, {
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      baggage: 'tenant=acme',
    });
    const request = test.startSpan('POST /graphql', {}, caller);
    await context.with(trace.setSpan(caller, request), fetchOnce);
    request.end();
    const attempt = exporter.getFinishedSpans().find((s) => s.name === 'POST')!;
    expect(attempt.kind).toBe(SpanKind.CLIENT);
    const fetch = exporter.getFinishedSpans().find((s) => s.name === 'gateway.pool.fetch')!;
    expect(attempt.parentSpanContext?.spanId).toBe(fetch.spanContext().spanId);
    expect(received).toHaveLength(1);
    expect(received[0]!.traceparent).toBe(
      `00-0af7651916cd43dd8448eb211c80319c-${attempt.spanContext().spanId}-01`,
    );
    expect(received[0]!.baggage).toBe('tenant=acme');
  });

  it('retries on another replica with a second attempt span, each request naming its own attempt', async () => {
    failNext = 1;
    const caller = propagation.extract(ROOT_CONTEXT, {
      traceparent: '00-1af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    });
    const request = test.startSpan('POST /graphql', {}, caller);
    await context.with(trace.setSpan(caller, request), fetchOnce);
    request.end();
    const attempts = exporter.getFinishedSpans().filter((s) => s.name === 'POST');
    expect(
      attempts.map((a) => [
        a.attributes['tollgate.attempt'],
        a.attributes['http.response.status_code'],
        a.attributes['http.request.resend_count'],
        a.attributes['error.type'],
        a.status.code,
      ]),
    ).toEqual([
      [1, 503, undefined, '503', SpanStatusCode.ERROR],
      [2, 200, 1, undefined, SpanStatusCode.UNSET],
    ]);
    expect(attempts[0]!.attributes['tollgate.replica']).not.toBe(attempts[1]!.attributes['tollgate.replica']);
    for (const a of attempts) {
      const url = new URL(String(a.attributes['url.full']));
      expect(a.attributes['tollgate.replica']).toBe(a.attributes['url.full']);
      expect(a.attributes['server.address']).toBe(url.hostname);
      expect(a.attributes['server.port']).toBe(Number(url.port));
    }
    expect(attempts[1]!.attributes['tollgate.retry_reason']).toBe('status 503');
    expect(received.map((h) => String(h.traceparent).split('-')[2])).toEqual(
      attempts.map((a) => a.spanContext().spanId),
    );
  });

  it('passes an unsampled decision on, so the replica records nothing either', async () => {
    const caller = propagation.extract(ROOT_CONTEXT, {
      traceparent: '00-2af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00',
    });
    const request = test.startSpan('POST /graphql', {}, caller);
    await context.with(trace.setSpan(caller, request), fetchOnce);
    request.end();
    expect(exporter.getFinishedSpans()).toEqual([]);
    expect(received[0]!.traceparent).toMatch(/^00-2af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-00$/);
  });

  it('sends no trace context outside a trace', async () => {
    await fetchOnce();
    expect(received[0]!.traceparent).toBeUndefined();
  });

  it('puts the routing decision on the fetch span: rule, subset and outcome', async () => {
    const labelled = new ReplicaPool('products', [url, { url: otherUrl, labels: { track: 'canary' } }], {
      healthCheck: { intervalMs: 0 },
    });
    const routed = (select: Record<string, string>, fallback: 'default' | 'fail') =>
      new ReplicaDataSource({
        pool: labelled,
        // the default set: the replica the canary selector does not match
        route: () => ({ rule: 'canary', select, reserved: [select, { track: 'canary' }], fallback }),
      }).process({ kind: 'incoming operation', request: { query: '{ ok }' }, context: {} } as never);
    const traced = async (run: () => Promise<unknown>) => {
      exporter.reset();
      const caller = propagation.extract(ROOT_CONTEXT, {
        traceparent: '00-3af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      });
      const result = await context.with(trace.setSpan(caller, test.startSpan('r', {}, caller)), run);
      const fetch = exporter.getFinishedSpans().find((s) => s.name === 'gateway.pool.fetch')!;
      const a = fetch.attributes;
      return {
        result,
        attrs: [a['tollgate.routing.rule'], a['tollgate.routing.subset'], a['tollgate.routing.outcome']],
        replica: a['tollgate.replica'],
      };
    };
    const selected = await traced(() => routed({ track: 'canary' }, 'default'));
    expect(selected.attrs).toEqual(['canary', 'track=canary', 'selected']);
    expect(selected.replica).toBe(otherUrl);
    const fallback = await traced(() => routed({ track: 'gone' }, 'default'));
    expect(fallback.attrs).toEqual(['canary', 'track=gone', 'fallback']);
    expect(fallback.replica).toBe(url);
    const failed = await traced(() => routed({ track: 'gone' }, 'fail'));
    expect(failed.attrs).toEqual(['canary', 'track=gone', 'failed']);
    expect(failed.result).toMatchObject({
      errors: [{ extensions: { code: 'SUBGRAPH_UNAVAILABLE', reason: 'POOL_NO_HEALTHY_REPLICA' } }],
    });
    await labelled.close();
  });
});
