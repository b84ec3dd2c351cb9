import type {
  ApolloServer,
  ApolloServerPlugin,
  BaseContext,
  GraphQLRequestContext,
  GraphQLRequestListener,
  HTTPGraphQLRequest,
  HTTPGraphQLResponse,
} from '@apollo/server';
import { HeaderMap } from '@apollo/server';
import type {
  GatewayExecutor,
  GatewayGraphQLRequestContext,
  GatewayInterface,
} from '@apollo/server-gateway-interface';
import {
  type DocumentNode,
  type GraphQLError,
  type GraphQLSchema,
  getOperationAST,
  type OperationDefinitionNode,
} from 'graphql';
import Negotiator from 'negotiator';
import { wrapExecutor } from '../executor-wrap/index.ts';
import {
  asUserInputErrors,
  type ErrorFormatting,
  ensureGraphQLError,
  FetcherHeaders,
  formatErrors,
  isStringRecord,
  mergeHead,
  stringify,
  uncachedPolicy,
} from './apollo-compat.ts';

/**
 * Direct execution: the operations Apollo Server has already parsed and validated (against the schema
 * serving now) skip its HTTP and request pipeline on their next requests. The same plugins run, with the
 * same hooks, in the same order, on a request context of the same shape; the same executor runs the
 * operation; errors are formatted and statuses chosen by the same rules. What is skipped is the work
 * around them that a prepared operation does not need: the request's SHA-256, the document store's
 * look-up, the context's copy, content negotiation on every request, a second request context for the
 * executor. Anything else (a first sight, GET, batches, APQ, a context that fails, an Accept header no
 * JSON type satisfies, subscriptions, a server stopping, trusted documents rewriting queries) goes
 * to Apollo Server as before.
 */

const JSON_TYPE = 'application/json; charset=utf-8';
const GRAPHQL_RESPONSE_TYPE = 'application/graphql-response+json; charset=utf-8';
const CALLBACK_TYPE = 'application/json; callbackSpec=1.0; charset=utf-8';
/** Documents kept (keyed by their text); the oldest goes first. */
const MAX_DOCUMENTS = 1000;

interface Prepared {
  readonly queryHash: string;
  readonly document: DocumentNode;
  readonly schema: GraphQLSchema;
  /** getOperationAST by operation name ('' for none); null: none resolves. */
  readonly operations: Map<string, OperationDefinitionNode | null>;
}

/** A request the direct path takes: its operation is prepared and its response type is known. */
export interface DirectRequest {
  readonly prepared: Prepared;
  readonly operation: OperationDefinitionNode;
  readonly contentType: string;
  readonly query: string;
  readonly operationName: string | undefined;
  readonly variables: Record<string, unknown> | undefined;
  readonly extensions: Record<string, unknown> | undefined;
}

export interface DirectExecutionOptions<TContext extends BaseContext> extends ErrorFormatting {
  /** The plugins given to Apollo Server, in its order (Apollo's own are all turned off in pipeline.ts). */
  plugins: readonly ApolloServerPlugin<TContext>[];
  /** False: every request goes to Apollo Server (a plugin that rewrites queries is installed). */
  enabled: boolean;
}

export interface DirectExecution<TContext extends BaseContext> {
  /** Records the operations Apollo Server validated and the schema it serves; give it to Apollo Server. */
  readonly plugin: ApolloServerPlugin<TContext>;
  /** The gateway Apollo Server loads: it captures the executor Apollo Server would call. */
  wrap(gateway: GatewayInterface): GatewayInterface;
  /** The direct request for a POST body, or undefined when Apollo Server must take it. No side effects. */
  match(body: unknown, accept: string | undefined): DirectRequest | undefined;
  /** Runs a matched request as Apollo Server would have, on the server given (for what it must answer). */
  run(
    server: ApolloServer<TContext>,
    request: DirectRequest,
    http: HTTPGraphQLRequest,
    context: () => Promise<TContext>,
  ): Promise<HTTPGraphQLResponse>;
  readonly stats: { direct: number };
}

type Listener<TContext extends BaseContext> = GraphQLRequestListener<TContext>;
// The context as it is filled in, stage by stage; each hook gets it typed for its stage.
type Mutable<TContext extends BaseContext> = {
  -readonly [K in keyof GraphQLRequestContext<TContext>]: GraphQLRequestContext<TContext>[K];
};

export function createDirectExecution<TContext extends BaseContext>(
  options: DirectExecutionOptions<TContext>,
): DirectExecution<TContext> {
  const documents = new Map<string, Prepared>();
  const contentTypes = new Map<string, string | null>();
  let schema: GraphQLSchema | undefined;
  let executor: GatewayExecutor | undefined;
  let stopped = false;
  const stats = { direct: 0 };

  const contentTypeFor = (accept: string | undefined): string | null => {
    if (!accept) return JSON_TYPE;
    let type = contentTypes.get(accept);
    if (type === undefined) {
      type =
        new Negotiator({ headers: { accept } }).mediaType([
          JSON_TYPE,
          GRAPHQL_RESPONSE_TYPE,
          CALLBACK_TYPE,
        ]) ?? null;
      if (contentTypes.size >= 100) contentTypes.clear();
      contentTypes.set(accept, type);
    }
    return type;
  };

  const plugin: ApolloServerPlugin<TContext> = {
    async serverWillStart() {
      return {
        schemaDidLoadOrUpdate({ apiSchema }) {
          schema = apiSchema;
          documents.clear();
        },
        async serverWillStop() {
          stopped = true;
        },
      };
    },
    async requestDidStart() {
      return {
        async didResolveOperation(rc) {
          // validated (or taken from Apollo's store of validated documents) against the schema serving
          if (!options.enabled || rc.schema !== schema || documents.has(rc.source)) return;
          if (documents.size >= MAX_DOCUMENTS) documents.delete(documents.keys().next().value as string);
          documents.set(rc.source, {
            queryHash: rc.queryHash,
            document: rc.document,
            schema: rc.schema,
            operations: new Map(),
          });
        },
      };
    },
  };

  function match(body: unknown, accept: string | undefined): DirectRequest | undefined {
    if (!options.enabled || stopped || !executor || !isStringRecord(body)) return undefined;
    const { query, operationName, variables, extensions } = body;
    if (typeof query !== 'string' || !query) return undefined;
    if (operationName != null && typeof operationName !== 'string') return undefined;
    if (variables != null && !isStringRecord(variables)) return undefined;
    if (extensions != null && (!isStringRecord(extensions) || extensions.persistedQuery !== undefined))
      return undefined;
    const prepared = documents.get(query);
    if (!prepared || prepared.schema !== schema) return undefined;
    const name = operationName ?? '';
    let operation = prepared.operations.get(name);
    if (operation === undefined) {
      operation = getOperationAST(prepared.document, operationName) ?? null;
      // the client picks the names: a few are kept, the rest looked up each time
      if (prepared.operations.size < 8) prepared.operations.set(name, operation);
    }
    if (!operation || operation.operation === 'subscription') return undefined;
    const contentType = contentTypeFor(accept);
    if (contentType === null) return undefined; // Apollo Server's 406
    return {
      prepared,
      operation,
      contentType,
      query,
      operationName: operationName ?? undefined,
      variables: variables ?? undefined,
      extensions: extensions ?? undefined,
    } as DirectRequest;
  }

  async function run(
    server: ApolloServer<TContext>,
    request: DirectRequest,
    http: HTTPGraphQLRequest,
    context: () => Promise<TContext>,
  ): Promise<HTTPGraphQLResponse> {
    let contextValue: TContext;
    try {
      contextValue = await context();
    } catch (error) {
      // Apollo Server answers a failed context (contextCreationDidFail, its status and message)
      return server.executeHTTPGraphQLRequest({
        httpGraphQLRequest: http,
        context: () => Promise.reject(error),
      });
    }
    stats.direct++;
    const { prepared } = request;
    const rc = {
      logger: server.logger,
      cache: server.cache,
      schema: prepared.schema,
      request: {
        query: request.query,
        operationName: request.operationName,
        variables: request.variables,
        extensions: request.extensions,
        http,
      },
      response: { http: { status: undefined, headers: new HeaderMap() } },
      contextValue,
      metrics: {},
      overallCachePolicy: uncachedPolicy(),
      requestIsBatched: false,
    } as unknown as Mutable<TContext>;
    try {
      const listeners = (
        await Promise.all(
          options.plugins.map((p) => p.requestDidStart?.(rc as GraphQLRequestContext<TContext>)),
        )
      ).filter((l): l is Listener<TContext> => l != null);
      rc.metrics.persistedQueryHit = false;
      rc.metrics.persistedQueryRegister = false;
      rc.queryHash = prepared.queryHash;
      rc.source = request.query;
      const resolved = each(rc, listeners, 'didResolveSource');
      if (resolved) await resolved;
      rc.document = prepared.document;
      rc.operation = request.operation;
      rc.operationName = request.operation.name?.value ?? null;
      try {
        await each(rc, listeners, 'didResolveOperation');
      } catch (error) {
        return await errorResponse(rc, listeners, [ensureGraphQLError(error)], request, options);
      }
      let fromPlugin: Awaited<ReturnType<NonNullable<Listener<TContext>['responseForOperation']>>> = null;
      for (const l of listeners) {
        fromPlugin = (await l.responseForOperation?.(rc as never)) ?? null;
        if (fromPlugin != null) break;
      }
      if (fromPlugin != null) {
        rc.response.body = fromPlugin.body;
        mergeHead(rc.response.http, fromPlugin.http);
      } else {
        const executionListeners = (
          await Promise.all(listeners.map((l) => l.executionDidStart?.(rc as never)))
        ).filter((l) => l != null);
        executionListeners.reverse();
        try {
          const result = await (executor as GatewayExecutor)(gatewayContext(rc, options));
          const errors = result.errors && asUserInputErrors(result.errors);
          if (errors) await didEncounterErrors(rc, listeners, errors);
          const { formatted, head } = errors
            ? formatErrors(errors, options)
            : { formatted: undefined, head: { status: undefined, headers: new HeaderMap() } };
          if (errors?.length && result.data === undefined && !head.status) head.status = 400;
          mergeHead(rc.response.http, head);
          rc.response.body = { kind: 'single', singleResult: { ...result, errors: formatted } };
        } catch (error) {
          const executionError = error instanceof Error ? error : ensureGraphQLError(error);
          await Promise.all(executionListeners.map((l) => l.executionDidEnd?.(executionError)));
          return await errorResponse(rc, listeners, [ensureGraphQLError(executionError)], request, options);
        }
        await Promise.all(executionListeners.map((l) => l.executionDidEnd?.()));
      }
      await each(rc, listeners, 'willSendResponse');
      return respond(rc, request);
    } catch (error) {
      // as Apollo Server: unexpectedErrorProcessingRequest, a log line, and a 500 that says no more
      await Promise.all(
        options.plugins.map((p) =>
          p.unexpectedErrorProcessingRequest?.({
            requestContext: rc as GraphQLRequestContext<TContext>,
            error: error instanceof Error ? error : ensureGraphQLError(error),
          }),
        ),
      );
      server.logger.error(`Unexpected error processing request: ${error}`);
      const { formatted, head } = formatErrors([new Error('Internal server error')], options);
      return {
        status: head.status ?? 500,
        headers: new HeaderMap([...head.headers, ['content-type', request.contentType]]),
        body: { kind: 'complete', string: stringify({ errors: formatted }) },
      };
    }
  }

  return {
    plugin,
    wrap: (gateway) =>
      wrapExecutor(gateway, (execute) => {
        executor = execute;
        return execute;
      }),
    match,
    run,
    stats,
  };
}

/** Awaits the hook of every listener that has it, as Apollo Server does (Promise.all); none: no tick. */
function each<TContext extends BaseContext>(
  rc: Mutable<TContext>,
  listeners: readonly Listener<TContext>[],
  hook: keyof Listener<TContext>,
): Promise<unknown[]> | undefined {
  const pending: unknown[] = [];
  for (const l of listeners) {
    const f = l[hook] as ((rc: unknown) => Promise<void>) | undefined;
    if (f) pending.push(f.call(l, rc));
  }
  return pending.length ? Promise.all(pending) : undefined;
}

function didEncounterErrors<TContext extends BaseContext>(
  rc: Mutable<TContext>,
  listeners: readonly Listener<TContext>[],
  errors: readonly GraphQLError[],
): Promise<unknown[]> | undefined {
  rc.errors = errors;
  return each(rc, listeners, 'didEncounterErrors');
}

/** Apollo Server's sendErrorResponse: a request error's body, its status (500 unless an error says). */
async function errorResponse<TContext extends BaseContext>(
  rc: Mutable<TContext>,
  listeners: readonly Listener<TContext>[],
  errors: GraphQLError[],
  request: DirectRequest,
  options: ErrorFormatting,
): Promise<HTTPGraphQLResponse> {
  await didEncounterErrors(rc, listeners, errors);
  const { formatted, head } = formatErrors(errors, options);
  rc.response.body = { kind: 'single', singleResult: { errors: formatted } };
  mergeHead(rc.response.http, head);
  rc.response.http.status ??= 500;
  await each(rc, listeners, 'willSendResponse');
  return respond(rc, request);
}

/** The response Apollo Server's HTTP layer would make of the request context's. */
function respond<TContext extends BaseContext>(
  rc: Mutable<TContext>,
  request: DirectRequest,
): HTTPGraphQLResponse {
  const { http, body } = rc.response;
  if (!http.headers.get('content-type')) http.headers.set('content-type', request.contentType);
  if (body?.kind !== 'single') throw new Error('a direct request ended without a single result');
  return {
    status: http.status,
    headers: http.headers,
    body: { kind: 'complete', string: stringify(body.singleResult) },
  };
}

/** The executor's view of the request, as Apollo Server builds it. */
function gatewayContext<TContext extends BaseContext>(
  rc: Mutable<TContext>,
  options: Pick<DirectExecutionOptions<TContext>, 'includeStacktraceInErrorResponses'>,
): GatewayGraphQLRequestContext {
  const { request } = rc;
  const search = request.http?.search ?? '';
  const head = rc.response.http;
  return {
    request: {
      query: request.query,
      operationName: request.operationName,
      variables: request.variables,
      extensions: request.extensions,
      http: request.http && {
        method: request.http.method,
        url: `https://unknown-url.invalid/${search !== '' && !search.startsWith('?') ? '?' : ''}${search}`,
        headers: new FetcherHeaders(request.http.headers),
      },
    },
    response: {
      http: {
        headers: new FetcherHeaders(head.headers),
        get status() {
          return head.status;
        },
        set status(status) {
          head.status = status;
        },
      },
    },
    logger: rc.logger,
    schema: rc.schema,
    schemaHash: 'schemaHash no longer exists since Apollo Server 4',
    context: rc.contextValue,
    cache: rc.cache,
    queryHash: rc.queryHash,
    document: rc.document,
    source: rc.source,
    operationName: rc.operationName,
    operation: rc.operation,
    errors: rc.errors,
    metrics: rc.metrics,
    debug: options.includeStacktraceInErrorResponses,
    overallCachePolicy: rc.overallCachePolicy,
    requestIsBatched: rc.requestIsBatched,
  } as unknown as GatewayGraphQLRequestContext;
}
