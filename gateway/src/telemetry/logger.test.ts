import { Writable } from 'node:stream';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, type LoggerOptions } from './logger.ts';

function raw() {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, done) {
      text += String(chunk);
      done();
    },
  });
  return { stream, text: () => text };
}

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

describe('createLogger: format and level', () => {
  const isJsonLines = (text: string) =>
    text
      .trim()
      .split('\n')
      .every((l) => typeof JSON.parse(l) === 'object');

  it.each([
    { format: 'auto', isTTY: false, development: false, pretty: false },
    { format: 'auto', isTTY: true, development: false, pretty: true },
    { format: 'auto', isTTY: false, development: true, pretty: true },
    { format: 'json', isTTY: true, development: true, pretty: false },
    { format: 'pretty', isTTY: false, development: false, pretty: true },
  ] as const)('format $format, terminal $isTTY, development $development: pretty $pretty', (c) => {
    const out = raw();
    const err = raw();
    const log = createLogger({ ...c, out: out.stream, err: err.stream });
    log.info('served', { status: 200 });
    log.error('boom', { reason: 'x' });
    if (c.pretty) {
      expect(out.text()).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: served \{"status":200\}\n$/);
      expect(err.text()).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] ERROR: boom \{"reason":"x"\}\n$/);
      // escape codes would mean colours on a stream that is not a terminal
      expect(out.text()).not.toContain('\u001b[');
    } else {
      expect(isJsonLines(out.text())).toBe(true);
      expect(JSON.parse(out.text())).toMatchObject({ level: 'info', msg: 'served', status: 200 });
      expect(JSON.parse(err.text())).toMatchObject({ level: 'error', msg: 'boom' });
    }
  });

  it('writes what log.level lets through, debug included, and nothing when silent', () => {
    const lines = (level: LoggerOptions['level']) => {
      const out = capture();
      const err = capture();
      const log = createLogger({ level, format: 'json', out: out.stream, err: err.stream });
      log.debug('d');
      log.info('i');
      log.warn('w');
      log.error('e');
      return [...out.lines, ...err.lines].map((l) => l.msg);
    };
    expect(lines('debug')).toEqual(['d', 'i', 'w', 'e']);
    expect(lines('info')).toEqual(['i', 'w', 'e']);
    expect(lines('warn')).toEqual(['w', 'e']);
    expect(lines('error')).toEqual(['e']);
    expect(lines('silent')).toEqual([]);
  });

  it('keeps the trace id in pretty lines', () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const out = raw();
    const log = createLogger({ format: 'pretty', out: out.stream, err: raw().stream });
    const span = trace.wrapSpanContext({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: 1,
    });
    context.with(trace.setSpan(context.active(), span), () => log.info('request'));
    context.disable();
    expect(out.text()).toContain(
      '"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7"',
    );
  });
});
