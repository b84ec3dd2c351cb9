import type { IncomingMessage, ServerResponse } from 'node:http';
import { context, propagation, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { filterBaggage } from './baggage.ts';
import {
  bindRecord,
  DEBUG_SAMPLING_ATTRIBUTE,
  type RequestRecord,
  setAnswerStatus,
  traceparentOf,
  tracer,
} from './spans.ts';

/** One access-log line: what was asked, by whom, what it cost and how it ended. */
export interface AccessLogEntry {
  method: string;
  path: string;
  status: number;
  durationMs: number;
  operation?: string | undefined;
  operationType?: string | undefined;
  principal?: string | undefined;
  costEstimated?: number | undefined;
  costActual?: number | undefined;
  rateLimit?: string | undefined;
  client: string;
  /** True when the client went away before the response was complete. */
  aborted: boolean;
}

export interface RequestTracingOptions {
  /** Request header that forces sampling and adds the trace id to `extensions` ('' turns it off). */
  debugHeader: string;
  /** Called once per GraphQL request when its response is done, inside the request's trace context. */
  accessLog?: ((entry: AccessLogEntry) => void) | undefined;
  /** The GraphQL path (the span's `http.route`); other paths pass straight through. @default '/graphql' */
  path?: string;
  /**
   * The client's address (`server.trustedProxies`): the span's `client.address` and the access log's
   * `client`. @default the socket's peer
   */
  clientAddress?: (req: IncomingMessage) => string;
  /** Keys of the client's `baggage` passed on to subgraphs (`telemetry.baggage.allowKeys`). @default none */
  baggageAllowKeys?: readonly string[];
}

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** Whether a debug header value asks for the trace (`tollgate-debug: trace`). */
export function wantsTrace(value: string | string[] | undefined): boolean {
  if (value === undefined) return false;
  return (Array.isArray(value) ? value.join(',') : value).toLowerCase().includes('trace');
}

/**
 * Wraps the gateway's HTTP handler: each GraphQL request gets a server span (the parent taken from the
 * incoming `traceparent`/`baggage`), a `traceparent` response header naming it, a record the stages
 * fill in, and one access-log line when the response is done. Health, metrics and IDE routes pass
 * straight through. An unsampled request costs a non-recording span and no attributes.
 */
export function traceRequests(handler: Handler, options: RequestTracingOptions): Handler {
  const debugHeader = options.debugHeader.toLowerCase();
  const accessLog = options.accessLog;
  const route = options.path ?? '/graphql';
  const ide = `${route.replace(/\/$/, '')}/ide/`;
  const clientAddress =
    options.clientAddress ?? ((req: IncomingMessage) => req.socket.remoteAddress ?? 'unknown');
  const allowBaggage = new Set(options.baggageAllowKeys ?? []);
  return (req, res) => {
    const url = req.url ?? '/';
    if (!url.startsWith(route) || url.startsWith(ide)) return handler(req, res);
    const start = performance.now();
    const method = req.method ?? 'GET';
    const parent = filterBaggage(propagation.extract(ROOT_CONTEXT, req.headers), allowBaggage);
    const debug = debugHeader !== '' && wantsTrace(req.headers[debugHeader]);
    const span = tracer.startSpan(
      `${method} ${route}`,
      debug
        ? { kind: SpanKind.SERVER, attributes: { [DEBUG_SAMPLING_ATTRIBUTE]: true } }
        : { kind: SpanKind.SERVER },
      parent,
    );
    if (span.isRecording()) {
      const q = url.indexOf('?');
      span.setAttributes({
        'http.request.method': method,
        'http.route': route,
        'url.path': q === -1 ? url : url.slice(0, q),
        'url.scheme': 'http',
        'network.protocol.version': req.httpVersion,
        // client.address: the client behind trusted proxies; network.peer.address: the socket's peer
        'client.address': clientAddress(req),
        'network.peer.address': req.socket.remoteAddress ?? '',
        'user_agent.original': req.headers['user-agent'] ?? '',
      });
    }
    const traceparent = traceparentOf(span.spanContext());
    if (traceparent) res.setHeader('traceparent', traceparent);
    const active = trace.setSpan(parent, span);
    const record: RequestRecord = { span, context: active };
    res.once('close', () => {
      const status = res.statusCode;
      if (span.isRecording()) {
        span.setAttribute('http.response.status_code', status);
        setAnswerStatus(span, status, record.outcome);
      }
      span.end();
      if (!accessLog) return;
      const entry: AccessLogEntry = {
        method,
        path: route,
        status,
        durationMs: Math.round((performance.now() - start) * 100) / 100,
        operation: record.operation,
        operationType: record.operationType,
        principal: record.principal,
        costEstimated: record.costEstimated,
        costActual: record.costActual,
        rateLimit: record.rateLimit,
        client: clientAddress(req),
        aborted: !res.writableFinished,
      };
      context.with(active, () => {
        try {
          accessLog(entry);
        } catch {
          // logging never fails a request
        }
      });
    });
    bindRecord(req, record);
    return context.with(active, () => handler(req, res));
  };
}
