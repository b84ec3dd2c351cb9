import { Writable } from 'node:stream';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, stream };
}

describe('createLogger', () => {
  beforeAll(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  });
  afterAll(() => context.disable());

  it('writes JSON lines with the active trace and span ids, info and errors to their own streams', () => {
    const out = capture();
    const err = capture();
    const log = createLogger({ out: out.stream, err: err.stream });
    const span = trace.wrapSpanContext({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: 1,
    });
    context.with(trace.setSpan(context.active(), span), () => {
      log.info('request', { status: 200 });
      log.error('boom', { reason: 'x' });
    });
    log.info('outside');
    expect(out.lines).toEqual([
      expect.objectContaining({
        level: 'info',
        msg: 'request',
        status: 200,
        trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
        span_id: '00f067aa0ba902b7',
        trace_flags: '01',
      }),
      expect.objectContaining({ level: 'info', msg: 'outside' }),
    ]);
    expect(out.lines[1]).not.toHaveProperty('trace_id');
    expect(err.lines).toEqual([
      expect.objectContaining({ level: 'error', msg: 'boom', trace_id: '4bf92f3577b34da6a3ce929d0e0e4736' }),
    ]);
  });
});
