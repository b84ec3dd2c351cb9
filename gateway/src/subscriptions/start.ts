import { type ApolloServer, HeaderMap } from '@apollo/server';
import { type Span, SpanStatusCode } from '@opentelemetry/api';
import {
  type DocumentNode,
  type FormattedExecutionResult,
  type GraphQLFormattedError,
  getOperationAST,
  parse,
} from 'graphql';
import { AuthError, type Principal } from '../auth/index.ts';
import { ErrorCode, GatewayError } from '../errors/index.ts';
import {
  type FormatOptions,
  formatErrors,
  prepareSubscription,
  type SubscriptionEventResult,
  type SubscriptionEvents,
} from '../incremental/index.ts';
import { budgetKey } from '../ratelimit/index.ts';
import { startOperationSpan } from '../telemetry/index.ts';
import type { EventCharge } from './charge.ts';
import { type GovernOptions, govern, type StreamEnd } from './govern.ts';
import { OpenCounter } from './limits.ts';
import type { StartSubscription, StreamEndReason, SubscriptionRequest, SubscriptionStart } from './types.ts';

/** The part of the gateway's request context a subscription needs (structurally its GatewayContext). */
export interface SubscriptionContext {
  [key: string]: unknown;
  principal: Principal;
  clientAddress: string;
  /** The caller's headers (lower-case names), which the header rules read. */
  requestHeaders?: Readonly<Record<string, string | string[] | undefined>>;
}

export interface HeaderLookup {
  get(name: string): string | undefined;
}

export interface SubscriptionStarterOptions<T extends SubscriptionContext> {
  /** The gateway's Apollo Server: every operation runs its whole pipeline, as over POST /graphql. */
  server: ApolloServer<T>;
  /**
   * The gateway's authentication (a bad credential throws, as for HTTP); with the caller's address when
   * a subscription starts (failed credentials are throttled per address), without it on a recheck.
   */
  authenticate(headers: HeaderLookup, clientAddress?: string): Promise<Principal>;
  /** Formats event errors the way Apollo Server formats a response's. */
  format: FormatOptions;
  maxPerPrincipal: number;
  maxPerConnection: number;
  /** How often an open subscription's credentials are checked again; 0 never. */
  reauthenticateMs: number;
  /** Rewrites a request before Apollo Server sees it (persisted queries: `documentId`). */
  rewriteRequest?: (request: { search: string; body: unknown }) => { search: string; body: unknown };
  /** The per-event charge of a started subscription (rate limits on), or undefined (off). */
  charge?: (
    context: SubscriptionContext,
    document: DocumentNode,
    request: SubscriptionRequest,
  ) => EventCharge | undefined;
  /** Keys of the caller's `baggage` kept in the subscription's trace context (`telemetry.baggage.allowKeys`). @default none */
  baggageAllowKeys?: readonly string[];
  /** Told when a subscription starts and when it ends, with why. */
  onStart?: () => void;
  onEnd?: (end: StreamEnd) => void;
}

export interface SubscriptionStarterStats {
  /** Subscriptions open now. */
  open: number;
  /** Events delivered since start. */
  delivered: number;
  /** Subscriptions ended since start, by why. */
  ended: Readonly<Partial<Record<StreamEndReason, number>>>;
}

export interface SubscriptionStarter {
  start: StartSubscription;
  stats(): SubscriptionStarterStats;
  /** Ends every open subscription (reason `shutdown`) and refuses new ones. */
  close(): void;
}

function headerLookup(headers: Readonly<Record<string, string>>): HeaderLookup {
  return { get: (name) => headers[name.toLowerCase()] };
}

// Identical subscriptions (10,000 clients of one feed) share one parsed document, so what is cached per
// document (the cost walker of their events) is built once, not once per subscription.
const MAX_DOCUMENTS = 1000;
const documents = new Map<string, DocumentNode>();

function documentOf(query: string): DocumentNode {
  let document = documents.get(query);
  if (!document) {
    document = parse(query, { noLocation: true, maxTokens: 100_000 });
    if (documents.size >= MAX_DOCUMENTS) documents.delete(documents.keys().next().value as string);
    documents.set(query, document);
  }
  return document;
}

function operationOf(request: SubscriptionRequest) {
  if (typeof request.query !== 'string') return undefined;
  try {
    const document = documentOf(request.query);
    const operation = getOperationAST(document, request.operationName ?? undefined);
    return operation ? { document, operation } : undefined;
  } catch {
    return undefined; // Apollo Server reports it
  }
}

/** A GET request's query string, from the request its transport parsed. */
function searchOf(request: SubscriptionRequest): string {
  const params = new URLSearchParams();
  if (request.query !== undefined) params.set('query', request.query);
  if (request.operationName) params.set('operationName', request.operationName);
  if (request.variables) params.set('variables', JSON.stringify(request.variables));
  if (request.extensions) params.set('extensions', JSON.stringify(request.extensions));
  return `?${params}`;
}

function bodyOf(response: { body: { kind: string; string?: string } }): FormattedExecutionResult {
  if (response.body.kind !== 'complete' || typeof response.body.string !== 'string')
    return {
      errors: [{ message: 'Unexpected error.', extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } }],
    };
  try {
    return JSON.parse(response.body.string) as FormattedExecutionResult;
  } catch {
    return {
      errors: [{ message: 'Unexpected error.', extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } }],
    };
  }
}

/** An error the upstream hub or the executor threw, as the last event of a subscription. */
function endOf(error: unknown, format: FormatOptions): StreamEnd {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === ErrorCode.SLOW_CONSUMER)
    return { reason: 'slow-consumer', error: { message, extensions: { code: ErrorCode.SLOW_CONSUMER } } };
  if (code === 'SUBGRAPH_UNAVAILABLE' || code === 'SUBGRAPH_ERROR')
    return {
      reason: 'upstream',
      error: { message, extensions: { code: ErrorCode.SUBGRAPH_UNAVAILABLE, reason: code } },
    };
  const [formatted] = formatErrors([error], format);
  return { reason: 'error', error: formatted };
}

function revocation(error: unknown): StreamEnd | undefined {
  if (!(error instanceof AuthError) || error.reason === 'jwks_unavailable') return undefined;
  return {
    reason: 'revoked',
    error: {
      message: `The credentials of this subscription are no longer accepted (${error.message}); the subscription ends`,
      extensions: { code: ErrorCode.UNAUTHENTICATED, reason: error.reason },
    },
  };
}

/** The starter's options a governed subscription reads. */
type GoverningOptions = Pick<
  SubscriptionStarterOptions<SubscriptionContext>,
  'format' | 'authenticate' | 'reauthenticateMs' | 'onStart' | 'onEnd'
>;

/** What the starter shares with every subscription it governs. */
interface StarterState {
  readonly perPrincipal: OpenCounter;
  readonly perConnection: OpenCounter;
  readonly open: Set<AsyncIterableIterator<FormattedExecutionResult>>;
  readonly ended: Partial<Record<StreamEndReason, number>>;
  delivered: number;
}

/**
 * One open subscription's side of the governor: what ends it (expiry, revocation, budget) and what its
 * end releases. A class, not closures: 10,000 open subscriptions each hold one.
 */
class Governing implements GovernOptions {
  readonly expiresAt: number | undefined;
  readonly recheckEveryMs: number;
  governed: AsyncIterableIterator<FormattedExecutionResult> | undefined;
  readonly #state: StarterState;
  readonly #options: GoverningOptions;
  readonly #principalKey: string;
  readonly #connectionId: string;
  readonly #headers: Readonly<Record<string, string>>;
  readonly #span: Span | undefined;
  readonly #charge: EventCharge | undefined;

  constructor(
    state: StarterState,
    options: GoverningOptions,
    principalKey: string,
    connectionId: string,
    headers: Readonly<Record<string, string>>,
    principal: Principal,
    span: Span | undefined,
    charge: EventCharge | undefined,
  ) {
    this.#state = state;
    this.#options = options;
    this.#principalKey = principalKey;
    this.#connectionId = connectionId;
    this.#headers = headers;
    this.#span = span;
    this.#charge = charge;
    const exp = principal.claims?.exp;
    this.expiresAt = typeof exp === 'number' ? exp * 1000 : undefined;
    this.recheckEveryMs = options.reauthenticateMs;
    state.perPrincipal.acquire(principalKey);
    state.perConnection.acquire(connectionId);
    options.onStart?.();
  }

  /** The executor's event as the client gets it: errors formatted as Apollo Server formats them. */
  format(event: SubscriptionEventResult): FormattedExecutionResult {
    this.#state.delivered++;
    const { data, errors } = event;
    return errors?.length
      ? { data, errors: formatErrors(errors, this.#options.format) as GraphQLFormattedError[] }
      : { data };
  }

  async recheck(): Promise<StreamEnd | undefined> {
    try {
      await this.#options.authenticate(headerLookup(this.#headers));
      return undefined;
    } catch (error) {
      return revocation(error);
    }
  }

  charge(event: FormattedExecutionResult): Promise<StreamEnd | undefined> {
    return this.#charge ? this.#charge.charge(event) : Promise.resolve(undefined);
  }

  endOf(error: unknown): StreamEnd {
    return endOf(error, this.#options.format);
  }

  onEnd(end: StreamEnd): void {
    const state = this.#state;
    if (this.governed) state.open.delete(this.governed);
    state.perPrincipal.release(this.#principalKey);
    state.perConnection.release(this.#connectionId);
    const span = this.#span;
    span?.setAttribute('tollgate.subscription.end', end.reason);
    if (end.error) span?.setStatus({ code: SpanStatusCode.ERROR, message: end.error.message });
    span?.end();
    state.ended[end.reason] = (state.ended[end.reason] ?? 0) + 1;
    this.#options.onEnd?.(end);
  }
}

/**
 * Starts operations for the subscription transports. Each one runs Apollo Server's whole pipeline, as a
 * POST /graphql would (authentication, validation, limits, persisted queries, authorization, cost,
 * budget), and a subscription's events then come from the executor through the context's slot. Each
 * open subscription is governed: credentials expiring or revoked, its budget, per-caller and
 * per-connection limits.
 */
export function createSubscriptionStarter<T extends SubscriptionContext>(
  options: SubscriptionStarterOptions<T>,
): SubscriptionStarter {
  const perPrincipal = new OpenCounter(options.maxPerPrincipal);
  const perConnection = new OpenCounter(options.maxPerConnection);
  const baggageAllowKeys = new Set(options.baggageAllowKeys ?? []);
  const open = new Set<AsyncIterableIterator<FormattedExecutionResult>>();
  let closed = false;
  const ended: Partial<Record<StreamEndReason, number>> = {};
  const shared: StarterState = { perPrincipal, perConnection, open, ended, delivered: 0 };

  const limitError = (limit: 'maxPerPrincipal' | 'maxPerConnection', max: number) =>
    new GatewayError(
      ErrorCode.SUBSCRIPTION_LIMIT,
      limit === 'maxPerPrincipal'
        ? `Too many open subscriptions: this caller has ${max} open on this gateway (subscriptions.maxPerPrincipal); close one first`
        : `Too many open subscriptions on this connection: ${max} (subscriptions.maxPerConnection); close one or open another connection`,
      { extensions: { limit, max } },
    );

  const start: StartSubscription = async (caller, request): Promise<SubscriptionStart> => {
    if (closed)
      return {
        kind: 'result',
        status: 503,
        headers: { 'retry-after': '1' },
        result: {
          errors: [
            {
              message: 'The gateway is shutting down; retry on another',
              extensions: { code: ErrorCode.OVERLOADED },
            },
          ],
        },
      };
    // Apollo Server refuses null for the optional members a transport may leave null
    const given: SubscriptionRequest = { query: request.query };
    if (request.variables != null) given.variables = request.variables;
    if (request.operationName != null) given.operationName = request.operationName;
    if (request.extensions != null) given.extensions = request.extensions;
    const rewritten = options.rewriteRequest?.({ search: '', body: given }) ?? { search: '', body: given };
    const body = rewritten.body as SubscriptionRequest;
    const parsed = operationOf(body);
    const subscription = parsed?.operation.operation === 'subscription';
    // Apollo Server sees the request as the client sent it (method, content type, preflight headers), so
    // its CSRF prevention and its no-mutation-over-GET rule hold for SSE and multipart as for any request.
    // A WebSocket has no content type and no cookie credentials (see SubscriptionCaller.method).
    const callerHeaders = { ...caller.headers };
    if (caller.method === 'WEBSOCKET') {
      delete callerHeaders.cookie;
      callerHeaders['content-type'] = 'application/json';
    }
    const headers = new HeaderMap();
    for (const [k, v] of Object.entries(callerHeaders)) headers.set(k, v);
    headers.set('accept', 'application/graphql-response+json, application/json');
    const get = caller.method === 'GET';
    const search = get ? searchOf(body) : rewritten.search;

    let context: T | undefined;
    let slot: { events?: SubscriptionEvents } | undefined;
    const name = parsed?.operation.name?.value;
    let span: ReturnType<typeof startOperationSpan> | undefined;
    const response = await options.server.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: get ? 'GET' : 'POST', headers, search, body: get ? undefined : body },
      context: async () => {
        const principal = await options.authenticate(headerLookup(callerHeaders), caller.remoteAddress);
        // the caller's headers, as over HTTP: what the `headers` rules read for its fetches and upstreams
        const built = { principal, clientAddress: caller.remoteAddress, requestHeaders: callerHeaders } as T;
        if (subscription) {
          if (perPrincipal.count(budgetKey(principal, caller.remoteAddress)) >= options.maxPerPrincipal)
            throw limitError('maxPerPrincipal', options.maxPerPrincipal);
          if (perConnection.count(caller.connectionId) >= options.maxPerConnection)
            throw limitError('maxPerConnection', options.maxPerConnection);
          slot = prepareSubscription(built);
          span = startOperationSpan(
            built,
            name ? `subscription ${name}` : 'subscription',
            caller.headers,
            {
              'graphql.operation.type': 'subscription',
              ...(name ? { 'graphql.operation.name': name } : {}),
              'enduser.id': principal.id,
            },
            baggageAllowKeys,
          );
        }
        context = built;
        return built;
      },
    });
    const responseHeaders: Record<string, string> = {};
    for (const [k, v] of response.headers)
      if (k !== 'content-length' && k !== 'content-type') responseHeaders[k] = v;
    const status = response.status ?? 200;
    const result = bodyOf(response);
    const events = slot?.events;
    if (!events || !context || !parsed || status !== 200 || result.errors?.length) {
      void events?.return?.();
      if (span) {
        span.setStatus({
          code: SpanStatusCode.ERROR,
          message: result.errors?.[0]?.message ?? `status ${status}`,
        });
        span.end();
      }
      return { kind: 'result', status, headers: responseHeaders, result };
    }
    const governing = new Governing(
      shared,
      options,
      budgetKey(context.principal, caller.remoteAddress),
      caller.connectionId,
      callerHeaders,
      context.principal,
      span,
      options.charge?.(context, parsed.document, body),
    );
    const governed = govern(events, governing, (event) => governing.format(event));
    governing.governed = governed;
    open.add(governed);
    return { kind: 'stream', headers: responseHeaders, events: governed };
  };

  return {
    start,
    stats: () => ({ open: open.size, delivered: shared.delivered, ended }),
    close() {
      closed = true;
      for (const stream of [...open]) void stream.return?.();
    },
  };
}
