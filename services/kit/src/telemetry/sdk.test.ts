import { defaultTextMapGetter, defaultTextMapSetter, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { loadSdk, parsePropagators, parseProtocol, propagatorFor, TelemetrySettingError } from './sdk.ts';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';
const sampled = trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1 });
const parts = loadSdk();

/** The headers a propagator for `names` writes for one sampled span. */
function injected(names: ReturnType<typeof parsePropagators>): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagatorFor(parts, names).inject(sampled, carrier, defaultTextMapSetter);
  return carrier;
}

describe('OTEL_PROPAGATORS', () => {
  it('defaults to W3C trace context and baggage, as the SDK does', () => {
    expect(parsePropagators(undefined)).toEqual(['tracecontext', 'baggage']);
    expect(parsePropagators(' ')).toEqual(['tracecontext', 'baggage']);
    expect(Object.keys(injected(parsePropagators(undefined)))).toEqual(['traceparent']);
  });

  it('writes each named format, and none with `none`', () => {
    expect(injected(['b3'])).toEqual({ b3: `${TRACE_ID}-${SPAN_ID}-1` });
    expect(injected(['b3multi'])).toMatchObject({
      'x-b3-traceid': TRACE_ID,
      'x-b3-spanid': SPAN_ID,
      'x-b3-sampled': '1',
    });
    expect(injected(['jaeger'])['uber-trace-id']).toBe(`${TRACE_ID}:${SPAN_ID}:0:01`);
    expect(Object.keys(injected(parsePropagators('tracecontext, B3')))).toEqual(['traceparent', 'b3']);
    expect(injected(parsePropagators('none'))).toEqual({});
  });

  it('reads the formats it was given and no other', () => {
    const b3 = propagatorFor(parts, ['b3']);
    const fromB3 = b3.extract(ROOT_CONTEXT, { b3: `${TRACE_ID}-${SPAN_ID}-1` }, defaultTextMapGetter);
    expect(trace.getSpanContext(fromB3)).toMatchObject({
      traceId: TRACE_ID,
      spanId: SPAN_ID,
      isRemote: true,
    });
    const fromW3c = b3.extract(
      ROOT_CONTEXT,
      { traceparent: `00-${TRACE_ID}-${SPAN_ID}-01` },
      defaultTextMapGetter,
    );
    expect(trace.getSpanContext(fromW3c)).toBeUndefined();
  });

  it('refuses an unknown name, naming it and the variable', () => {
    expect(() => parsePropagators('tracecontext,xray')).toThrow(TelemetrySettingError);
    expect(() => parsePropagators('tracecontext,xray')).toThrow(/OTEL_PROPAGATORS names "xray"/);
  });
});

describe('OTEL_EXPORTER_OTLP_PROTOCOL', () => {
  it('defaults to http/protobuf; the traces variable wins over the general one', () => {
    expect(parseProtocol({})).toBe('http/protobuf');
    expect(parseProtocol({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })).toBe('http/json');
    expect(
      parseProtocol({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc' }),
    ).toBe('grpc');
  });

  it('refuses an unknown encoding, naming the variable', () => {
    expect(() => parseProtocol({ OTEL_EXPORTER_OTLP_PROTOCOL: 'thrift' })).toThrow(
      /OTEL_EXPORTER_OTLP_PROTOCOL is "thrift", which is not one of http\/protobuf, http\/json, grpc/,
    );
  });
});
