import {
  type Attributes,
  type AttributeValue,
  type Context,
  context,
  isSpanContextValid,
  type Span,
  type SpanContext,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';

/** The gateway's tracer; a no-op until `startTracing` registers a provider. */
export const tracer = trace.getTracer('@tollgate/gateway');

/**
 * Set as a start attribute on the request span when the client sent the debug header: the sampler
 * samples such a span whatever its ratio says, so the trace id the client gets back is in Jaeger.
 */
export const DEBUG_SAMPLING_ATTRIBUTE = 'tollgate.debug';

/** The active span when it records (a sampled request); undefined otherwise, so callers skip attribute work. */
export function recordingSpan(): Span | undefined {
  const span = trace.getSpan(context.active());
  return span?.isRecording() ? span : undefined;
}

/**
 * Runs `fn` in a child span of `parentContext` (default: the active context) when that one records; when
 * it does not (an unsampled request, or tracing off) `fn` runs as is and no span is allocated.
 */
export async function withSpan<T>(
  name: string,
  fn: (span: Span | undefined, spanContext: Context | undefined) => Promise<T>,
  attributes?: Attributes,
  parentContext?: Context,
): Promise<T> {
  const parent = parentContext ?? context.active();
  if (!trace.getSpan(parent)?.isRecording()) return fn(undefined, undefined);
  const span = tracer.startSpan(name, attributes ? { attributes } : {}, parent);
  try {
    const active = trace.setSpan(parent, span);
    return await context.with(active, fn, undefined, span, active);
  } catch (error) {
    failSpan(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/** Marks a span failed with the error's message (and the exception as an event). */
export function failSpan(span: Span, error: unknown): void {
  if (error instanceof Error) span.recordException(error);
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}

/** `00-<trace id>-<span id>-<flags>`: the W3C traceparent of a span context, or undefined when invalid. */
export function traceparentOf(sc: SpanContext): string | undefined {
  if (!isSpanContextValid(sc)) return undefined;
  return `00-${sc.traceId}-${sc.spanId}-${sc.traceFlags & 1 ? '01' : '00'}`;
}

/** What the access log line of one request says, filled in by the stages that know each part. */
export interface RequestFacts {
  operation?: string | undefined;
  operationType?: string | undefined;
  principal?: string | undefined;
  principalKind?: string | undefined;
  costEstimated?: number | undefined;
  costActual?: number | undefined;
  rateLimit?: string | undefined;
}

/** One request's facts plus its server span and the trace contexts its stages hang under. */
export interface RequestRecord extends RequestFacts {
  span?: Span | undefined;
  /** The server span's context: the parent of the auth, rate-limit and execute spans. */
  context?: Context | undefined;
  /** The execute span's context while the operation runs: the parent of every fetch span. */
  execution?: Context | undefined;
  /** How the GraphQL answer went, noted by the telemetry plugin before it is sent. */
  outcome?: AnswerOutcome | undefined;
}

/** What the answer to a GraphQL request says of its errors. */
export interface AnswerOutcome {
  /** Errors in the answer. */
  errors: number;
  /** The answer carries no data (`data` null or absent): the operation failed as a whole. */
  failed: boolean;
  /** `extensions.code` of the first error, if any. */
  code?: string | undefined;
}

/**
 * The outcome of an answer `{ data, errors }`: undefined when it has no errors. A `data` that is null or
 * absent next to errors is a failed operation; data next to errors is a partial answer.
 */
export function outcomeOf(result: {
  data?: unknown;
  errors?: readonly unknown[] | undefined;
}): AnswerOutcome | undefined {
  const errors = result.errors ?? [];
  if (errors.length === 0) return undefined;
  const first = errors[0] as { extensions?: { code?: unknown } } | undefined;
  const code = first?.extensions?.code;
  return {
    errors: errors.length,
    failed: result.data === null || result.data === undefined,
    ...(typeof code === 'string' ? { code } : {}),
  };
}

/**
 * Sets a request or operation span's status from its answer, by the HTTP server conventions and our
 * GraphQL rule (docs/telemetry.md): ERROR for a 5xx, or for a failed operation answered with a 2xx/3xx;
 * UNSET for a 4xx (the client's mistake: bad request, unauthenticated, rate limited) and for a partial
 * answer (data with errors), which carries the error count instead. `error.type` names the first
 * error's code, or the status.
 */
export function setAnswerStatus(
  span: Span,
  status: number | undefined,
  outcome: AnswerOutcome | undefined,
): void {
  if (outcome) span.setAttribute('tollgate.graphql.errors', outcome.errors);
  const clientError = status !== undefined && status >= 400 && status < 500;
  const serverError = status !== undefined && status >= 500;
  if (clientError || !(serverError || outcome?.failed)) return;
  const type = outcome?.code ?? (serverError ? String(status) : 'GRAPHQL_ERROR');
  span.setAttribute('error.type', type);
  span.setStatus({ code: SpanStatusCode.ERROR, message: type });
}

// Each request's record, reachable from its IncomingMessage (the HTTP layer) and from its GraphQL
// context object (the plugins), as a symbol-keyed property: Apollo Server hands plugins a shallow clone
// of the context, which keeps it. Not AsyncLocalStorage: an async-context store turns on Node's promise
// hooks, which cost every promise of every request a few percent of the CPU (issue 10).
const RECORD = Symbol('tollgate.requestRecord');
type Owner = { [RECORD]?: RequestRecord };

/** Makes `record` the record of `owner` (the request, or its GraphQL context). */
export function bindRecord(owner: object, record: RequestRecord | undefined): void {
  if (record) (owner as Owner)[RECORD] = record;
}

/**
 * The trace context a stage of this request (given by its IncomingMessage or GraphQL context) runs
 * under: the execute span's while the operation executes, else the server span's.
 */
export function traceContextOf(owner: object | undefined): Context | undefined {
  const record = recordOf(owner);
  return record?.execution ?? record?.context;
}

/** The record of a request or of its GraphQL context, if it has one. */
export function recordOf(owner: object | undefined): RequestRecord | undefined {
  return (owner as Owner | undefined)?.[RECORD];
}

// Fact → attribute of the request span.
const ATTRIBUTES: Readonly<Record<keyof RequestFacts, string>> = {
  operation: 'graphql.operation.name',
  operationType: 'graphql.operation.type',
  principal: 'enduser.id',
  principalKind: 'tollgate.principal.kind',
  costEstimated: 'tollgate.cost.estimated',
  costActual: 'tollgate.cost.actual',
  rateLimit: 'tollgate.ratelimit.decision',
};

/**
 * Notes facts about a request (given by its IncomingMessage or GraphQL context): on its access-log
 * record, and as attributes of the request span when that span records (a property write each otherwise).
 */
export function annotateRequest(owner: object | undefined, fields: RequestFacts): void {
  const record = recordOf(owner);
  if (!record) return;
  Object.assign(record, fields);
  const target = record.span;
  if (!target?.isRecording()) return;
  for (const key of Object.keys(fields) as (keyof RequestFacts)[]) {
    const value: AttributeValue | undefined = fields[key];
    if (value !== undefined) target.setAttribute(ATTRIBUTES[key], value);
  }
}
